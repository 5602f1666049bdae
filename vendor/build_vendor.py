"""Rebuild vendor/ (the JavaScript of the offline slides, the website and its tests) from the npm registry.

    python vendor/build_vendor.py            # fetch, extract, rewrite manifest.json + README.md
    python vendor/build_vendor.py --check    # fetch into a temp folder and compare checksums

Each package is fetched with ``npm pack <name>@<version>`` (npm checks the tarball against
the registry's integrity hash; nothing is installed and no package script runs) and only
the files the slides, the website or its tests load are copied out of it, with the package's
licence. The lecture slides (``python tools/homework.py lecture``) and the website
(``python tools/website.py build``) verify every file against ``manifest.json`` before copying
the ones they need next to their pages.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

# name -> (version, licence, what it is for, files inside the package: "package/<path>")
OFL = "SIL OFL 1.1"  # the fonts' own licence, where it differs from the package's
FILE_LICENCES = {
    "dist/theme/fonts/source-sans-pro/": f"{OFL} (Source Sans Pro, Adobe; see its LICENSE)",
    ".woff2": f"{OFL} (Font Awesome Free 5 fonts, bundled by the package)",
}
PACKAGES = {
    "reveal.js": ("5.2.1", "MIT", "the slideshow (navigation, layout, speaker notes)", [
        "LICENSE", "dist/reveal.js", "dist/reveal.css", "dist/theme/white.css",
        "dist/theme/fonts/source-sans-pro/source-sans-pro.css",
        "dist/theme/fonts/source-sans-pro/LICENSE",
        *(f"dist/theme/fonts/source-sans-pro/source-sans-pro-{w}.woff"
          for w in ("regular", "italic", "semibold", "semibolditalic")),
        "plugin/notes/notes.js",
    ]),
    "@jupyter-widgets/html-manager": ("1.0.15", "BSD-3-Clause", "widgets from the saved widget state, no kernel", [
        # the package has no LICENSE file: package.json states BSD-3-Clause (Project Jupyter's ipywidgets);
        # embed.js.LICENSE.txt lists the licences of what the bundle contains
        "package.json", "dist/embed.js", "dist/embed.js.LICENSE.txt",
        # Font Awesome icons used by the widgets' CSS (browsers take the woff2 files)
        "dist/1551f4f60c37af51121f.woff2", "dist/7a3337626410ca2f4071.woff2", "dist/d878b0a6a1144760244f.woff2",
    ]),
    "mathjax": ("3.2.2", "Apache-2.0", "formulas in the lesson text (TeX, SVG output, every extension built in)", [
        "LICENSE", "es5/tex-svg-full.js",
    ]),
    "axe-core": ("4.14.1", "MPL-2.0", "accessibility checks of every website page in the browser tests "
                 "(injected by the tests, not part of the site)", [
        "LICENSE", "LICENSE-3RD-PARTY.txt", "axe.min.js",
    ]),
}


def folder_name(package: str) -> str:
    """vendor/<folder> of a package: its name without the npm scope."""
    return package.split("/")[-1]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def npm_pack(package: str, version: str, dest: Path) -> tuple[Path, str, str]:
    """Download one package tarball; returns (tarball, registry URL, integrity)."""
    out = subprocess.run(["npm", "pack", f"{package}@{version}", "--json", "--pack-destination", str(dest)],
                         check=True, capture_output=True, text=True, cwd=dest).stdout
    (info,) = json.loads(out)
    url = f"https://registry.npmjs.org/{package}/-/{folder_name(package)}-{version}.tgz"
    return dest / info["filename"], url, info["integrity"]


def build(out: Path) -> dict[str, dict]:
    """Extract every listed file into ``out``; returns the manifest {relative path: record}."""
    manifest = {}
    with tempfile.TemporaryDirectory() as tmp:
        for package, (version, licence, purpose, files) in PACKAGES.items():
            tarball, url, integrity = npm_pack(package, version, Path(tmp))
            with tarfile.open(tarball) as tar:
                for name in files:
                    member = tar.getmember(f"package/{name}")
                    if not member.isfile():
                        raise RuntimeError(f"{package}@{version}: {name} is not a regular file")
                    rel = f"{folder_name(package)}/{name}"
                    target = out / rel
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(tar.extractfile(member).read())
                    own = [lic for key, lic in FILE_LICENCES.items() if key in name]
                    manifest[rel] = {"sha256": sha256(target), "bytes": target.stat().st_size,
                                     "package": package, "version": version, "licence": own[0] if own else licence,
                                     "tarball": url, "integrity": integrity}
    return manifest


README_HEAD = """# JavaScript vendored for the offline slides, the website and its tests

`python tools/homework.py lecture` writes reveal.js slides and `python tools/website.py build`
(`make site`) the course website, both working without a network: the files below that each
needs are copied next to its pages, after their sha256 is checked against `manifest.json` (a
missing or changed file stops the build with its name; restore it with
`git checkout -- vendor/<file>` or rebuild with `python vendor/build_vendor.py`). axe-core is
used only by the website's tests (`make test-site`), which inject it into each page.

Each file comes unchanged from its npm package, fetched with `npm pack` (the registry's
integrity hash is checked by npm and recorded). `python vendor/build_vendor.py --check`
fetches them again and compares checksums. require.js is not needed: the widget manager is
the self-contained `embed.js` bundle (it renders the standard ipywidgets and `Output` from the
saved widget state; it would load only third-party widget code from a CDN, and the course has
none), and reveal.js loads as a plain script.

## Packages
"""


def write_readme(manifest: dict[str, dict]) -> None:
    lines = [README_HEAD]
    for package, (version, licence, purpose, _) in PACKAGES.items():
        lines.append(f"* `{package}` {version} ({licence}): {purpose}")
    lines += ["", "## Files", "| file | bytes | package | licence | sha256 |", "|---|---:|---|---|---|"]
    for rel, rec in manifest.items():
        lines.append(f"| `{rel}` | {rec['bytes']:,} | {rec['package']} {rec['version']} | {rec['licence']} "
                     f"| `{rec['sha256']}` |")
    (HERE / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="rebuild into a temp folder and compare checksums")
    args = parser.parse_args()
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            fresh = build(Path(tmp))
        stored = json.loads((HERE / "manifest.json").read_text(encoding="utf-8"))
        bad = [rel for rel in fresh.keys() | stored.keys()
               if fresh.get(rel, {}).get("sha256") != stored.get(rel, {}).get("sha256")]
        for rel in bad:
            print(f"differs: {rel}")
        print("vendor/ matches the npm packages" if not bad else f"{len(bad)} files differ")
        return 1 if bad else 0
    manifest = build(HERE)
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    write_readme(manifest)
    print(f"wrote {len(manifest)} files, manifest.json and README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())

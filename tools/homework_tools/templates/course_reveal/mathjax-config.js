// MathJax 3 for the course's offline pages (the slides include this file; the website loads it
// through Sphinx's mathjax_config_path). TeX between $...$ or \(...\), displays between $$...$$ or \[...\].
window.MathJax = {
  tex: {inlineMath: [["$", "$"], ["\\(", "\\)"]], displayMath: [["$$", "$$"], ["\\[", "\\]"]],
        processEscapes: true, processEnvironments: true},
  options: {enableMenu: false},
  svg: {fontCache: "global"},
  startup: {
    ready: function () {
      MathJax.startup.defaultReady();
      // the Jupyter widget manager typesets widget labels with the MathJax 2 call MathJax.Hub.Queue
      MathJax.Hub = {Queue: function (job) {
        MathJax.startup.promise.then(function () { return MathJax.typesetPromise([job[2]]); });
      }};
    }
  }
};

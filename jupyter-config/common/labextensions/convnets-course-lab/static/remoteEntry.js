// The course's one JupyterLab plugin, written by hand (no build step): a federated-extension container
// (window._JUPYTERLAB[name] with init/get, as JupyterLab loads prebuilt extensions) that gets the notebook
// tracker's token from the shared @jupyterlab/notebook module.
//
// What it does:
// 1. With saved widget state ("saveState", jupyter-config/common/labconfig), jupyter-widgets marks a
// notebook modified whenever it registers a widget model, also when it only restores the saved state on
// opening, or clears it when the kernel starts. Closing a notebook nobody touched then asks to save it. The
// plugin keeps a snapshot of each notebook as it was opened (or last saved), without the widget state and the
// kernel's language_info, and clears the "modified" mark when nothing else differs from it.
// 2. A widget restored from the saved state is not backed by a kernel (jupyter-widgets marks it
// `jupyter-widgets-disconnected`, with a red icon on every control, and ignores its controls until its cell
// runs again). Instead of the icons, one line on top of the widget says so.
(function () {
  const NAME = 'convnets-course-lab';
  let shareScope = null;

  async function shared(name) {
    const versions = (shareScope || {})[name];
    if (!versions) {
      throw new Error(`${NAME}: ${name} is not shared by this JupyterLab`);
    }
    const loaded = Object.keys(versions).find(v => versions[v].loaded) || Object.keys(versions).pop();
    return (await versions[loaded].get())();
  }

  function snapshot(model) {
    const nb = model.toJSON();
    const metadata = Object.assign({}, nb.metadata);
    delete metadata.widgets; // the widget manager's state: restored on opening, rewritten on saving
    delete metadata.language_info; // set again by every kernel start
    const cells = (nb.cells || []).map(cell => {
      const meta = Object.assign({}, cell.metadata);
      delete meta.trusted; // the notary's verdict, not content
      return Object.assign({}, cell, { metadata: meta });
    });
    return JSON.stringify([metadata, cells]);
  }

  async function watch(panel) {
    const context = panel.context;
    await context.ready;
    let clean = snapshot(context.model);
    context.fileChanged.connect(() => {
      clean = snapshot(context.model); // saved: this is the new unmodified state
    });
    context.model.stateChanged.connect((model, change) => {
      if (change.name !== 'dirty' || !change.newValue) {
        return;
      }
      setTimeout(() => {
        if (model.dirty && !model.isDisposed && snapshot(model) === clean) {
          model.dirty = false;
        }
      }, 0);
    });
  }

  const SAVED_VIEW_CSS = `
.jp-OutputArea-output .jupyter-widgets-disconnected::before { content: none; }
.jp-OutputArea-output > .jupyter-widgets-disconnected::before {
  content: "Saved view: the controls come to life when you run this cell (Shift+Enter).";
  display: block; align-self: stretch; padding: 2px 0 6px; color: #8a4b00; font: italic 13px sans-serif;
}`;

  function addStyle() {
    const style = document.createElement('style');
    style.id = `${NAME}-style`;
    style.textContent = SAVED_VIEW_CSS;
    document.head.appendChild(style);
  }

  window._JUPYTERLAB = window._JUPYTERLAB || {};
  window._JUPYTERLAB[NAME] = {
    init: async scope => {
      shareScope = scope;
    },
    get: async module => {
      if (module !== './extension') {
        throw new Error(`${NAME} has no module ${module}`);
      }
      const { INotebookTracker } = await shared('@jupyterlab/notebook');
      const plugin = {
        id: `${NAME}:saved-widgets`,
        description: 'A notebook opened and not changed is not marked modified; saved widget views say how to revive them',
        autoStart: true,
        requires: [INotebookTracker],
        activate: (app, tracker) => {
          addStyle();
          tracker.forEach(panel => watch(panel));
          tracker.widgetAdded.connect((_, panel) => watch(panel));
        }
      };
      return () => ({ __esModule: true, default: [plugin] });
    }
  };
})();

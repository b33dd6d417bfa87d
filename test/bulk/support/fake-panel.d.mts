// Types for fake-panel.mjs, a plain-JavaScript panel model that child processes load next to dist/.
// The tests reach into its state freely; typing every field would duplicate the model for no safety gained.
export function fakePanels(lib: object): any;

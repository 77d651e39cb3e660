// The editor component of `resonator studio`: CodeMirror 6 (MIT), bundled into one file that
// ships inside the package (src/resonator/studio/static/vendor/). Rebuild with ./build.sh.
export { EditorState, StateEffect, StateField } from "@codemirror/state";
export { EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter,
         drawSelection, hoverTooltip } from "@codemirror/view";
export { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
export { StreamLanguage, syntaxHighlighting, defaultHighlightStyle, bracketMatching }
  from "@codemirror/language";
export { toml } from "@codemirror/legacy-modes/mode/toml";
export { setDiagnostics, lintGutter, lintKeymap, forEachDiagnostic } from "@codemirror/lint";
export { autocompletion, completionKeymap } from "@codemirror/autocomplete";
export { search, searchKeymap, highlightSelectionMatches } from "@codemirror/search";

// workspace/cm.js — CodeMirror 6 for the editor page, loaded on demand
// (its own chunk), with the language of the file's extension.
import { EditorView, basicSetup } from 'codemirror';
import { EditorState, Compartment } from '@codemirror/state';
import { keymap } from '@codemirror/view';
import { indentWithTab } from '@codemirror/commands';
import { StreamLanguage } from '@codemirror/language';
import { python } from '@codemirror/lang-python';
import { cpp } from '@codemirror/lang-cpp';
import { json } from '@codemirror/lang-json';
import { yaml } from '@codemirror/lang-yaml';
import { markdown } from '@codemirror/lang-markdown';
import { shell } from '@codemirror/legacy-modes/mode/shell';
import { r } from '@codemirror/legacy-modes/mode/r';
import { julia } from '@codemirror/legacy-modes/mode/julia';

function language(name) {
	const x = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1).toLowerCase() : '';
	switch (x) {
		case 'py':
			return python();
		case 'c':
		case 'h':
		case 'cc':
		case 'cpp':
		case 'cxx':
		case 'hpp':
		case 'cu':
			return cpp();
		case 'json':
		case 'ipynb':
			return json();
		case 'yaml':
		case 'yml':
			return yaml();
		case 'md':
		case 'markdown':
			return markdown();
		case 'sh':
		case 'bash':
		case 'slurm':
		case 'sbatch':
			return StreamLanguage.define(shell);
		case 'r':
			return StreamLanguage.define(r);
		case 'jl':
			return StreamLanguage.define(julia);
		default:
			return [];
	}
}

// The page's CSS does not reach into the shadow root; inherited custom
// properties (--mono, --surface, ...) do.
const theme = EditorView.theme({
	'&': { height: '100%', fontSize: '14px', backgroundColor: 'var(--surface)', color: 'var(--text)' },
	'&.cm-focused': { outline: 'none' },
	'.cm-scroller': { fontFamily: 'var(--mono)', lineHeight: '1.5' },
	'.cm-gutters': { backgroundColor: 'var(--surface-2)', borderRight: '1px solid var(--border)', color: 'var(--muted)' },
});

// A new editor in parent for a file called name with text; onChange(doc)
// after every edit; onSave() on Ctrl-S / Cmd-S. Returns an object with
// getText(), setText(text), focus(), destroy().
//
// The editor lives in a shadow root: CodeMirror adds its styles with a
// <style> element in a document, which the page's CSP (style-src 'self')
// refuses, but through constructable style sheets (adoptedStyleSheets) in
// a shadow root, which the CSP allows.
export function cmCreate(host, { name, text, onChange, onSave }) {
	const lang = new Compartment();
	const shadow = host.shadowRoot || host.attachShadow({ mode: 'open' });
	shadow.replaceChildren();
	const view = new EditorView({
		parent: shadow,
		root: shadow,
		state: EditorState.create({
			doc: text,
			extensions: [
				keymap.of([
					{
						key: 'Mod-s',
						preventDefault: true,
						run: () => {
							onSave();
							return true;
						},
					},
					indentWithTab,
				]),
				basicSetup,
				lang.of(language(name)),
				theme,
				EditorView.updateListener.of((u) => {
					if (u.docChanged) onChange(u.state.doc.toString());
				}),
				EditorView.contentAttributes.of({ 'aria-label': 'Editor for ' + name }),
			],
		}),
	});
	return {
		view,
		getText: () => view.state.doc.toString(),
		setText: (t) => view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: t } }),
		focus: () => view.focus(),
		destroy: () => view.destroy(),
	};
}

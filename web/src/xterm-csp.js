// xterm-csp.js — let xterm.js style itself under kaon's Content-Security-Policy.
//
// The page's CSP is style-src 'self' with no 'unsafe-inline' (see
// src/server/static.c), which blocks the <style> elements xterm.js fills
// with its generated CSS (theme colours, cell size, scrollbar) and the
// style="" attributes it sets for 24-bit colours. Constructable
// stylesheets (document.adoptedStyleSheets) and CSSOM (element.style) are
// not inline styles, so the CSP allows them (pdf.js does the same). While
// installed, document.createElement('style') gives an inert <template>
// (even an empty <style> in the page counts as a violation) whose text goes
// to an adopted sheet, and setAttribute('style', ...) on spans goes
// through element.style.cssText. Install while a terminal is on the
// page; the returned function undoes it.
let installs = 0;
let origCreate = null;
const sheets = new Set();

function adoptStyle(el) {
	const sheet = new CSSStyleSheet();
	let text = '';
	sheets.add(sheet);
	document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
	const drop = () => {
		sheets.delete(sheet);
		document.adoptedStyleSheets = document.adoptedStyleSheets.filter((s) => s !== sheet);
	};
	Object.defineProperty(el, 'textContent', {
		configurable: true,
		get: () => text,
		set: (v) => {
			text = v == null ? '' : String(v);
			sheet.replaceSync(text);
		},
	});
	const remove = el.remove.bind(el);
	el.remove = () => {
		drop();
		remove();
	};
}

function cssomStyleAttribute(el) {
	const set = el.setAttribute.bind(el);
	el.setAttribute = (name, value) => {
		if (String(name).toLowerCase() === 'style') el.style.cssText = String(value);
		else set(name, value);
	};
}

export function xtermCspInstall() {
	if (installs++ === 0) {
		origCreate = document.createElement;
		document.createElement = function createElement(tag, options) {
			const t = typeof tag === 'string' ? tag.toLowerCase() : '';
			if (t === 'style') {
				const el = origCreate.call(this, 'template', options);
				el.dataset.xtermStyle = '';
				adoptStyle(el);
				return el;
			}
			const el = origCreate.call(this, tag, options);
			if (t === 'span') cssomStyleAttribute(el);
			return el;
		};
	}
	let done = false;
	return () => {
		if (done) return;
		done = true;
		if (--installs > 0) return;
		document.createElement = origCreate;
		document.adoptedStyleSheets = document.adoptedStyleSheets.filter((s) => !sheets.has(s));
		sheets.clear();
	};
}

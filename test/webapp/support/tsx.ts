// Lets the web app's .tsx components load in mocha: Node strips types from .ts files by itself but
// does not compile JSX, so this hook compiles .tsx files with TypeScript (React's automatic runtime).
// Imports inside them keep their .ts/.tsx extensions and resolve as usual.
import fs from 'node:fs';
import { registerHooks } from 'node:module';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

let registered = false;

export function registerTsx(): void {
  if (registered) return;
  registered = true;
  registerHooks({
    load(url, context, nextLoad) {
      if (!url.startsWith('file:') || !url.endsWith('.tsx')) return nextLoad(url, context);
      const source = fs.readFileSync(fileURLToPath(url), 'utf8');
      const output = ts.transpileModule(source, {
        fileName: fileURLToPath(url),
        compilerOptions: { jsx: ts.JsxEmit.ReactJSX, module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
      });
      return { format: 'module', source: output.outputText, shortCircuit: true };
    },
  });
}

/** The browser globals the components touch while rendering on the server. */
export function fakeBrowserGlobals(pathname = '/'): void {
  const g = globalThis as Record<string, unknown>;
  g.location = { pathname, protocol: 'http:', host: 'localhost' };
  g.document ??= { cookie: '', visibilityState: 'visible' };
}

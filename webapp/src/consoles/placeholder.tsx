// Stands in for a console until it is built; loaded on demand like a real one.
import type { ConsoleProps } from './registry.ts';

export default function ConsolePlaceholder({ path }: ConsoleProps) {
  return (
    <section className="console-placeholder" aria-labelledby="console-title">
      <h1 id="console-title" tabIndex={-1}>Console</h1>
      <p>This console is not available yet. Its pages will appear here (requested: <code>{path}</code>).</p>
    </section>
  );
}

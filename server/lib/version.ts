import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const packageJson = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json');

/** Custodian's version, from package.json. */
export const version: string = (JSON.parse(fs.readFileSync(packageJson, 'utf8')) as { version: string }).version;

/** The Mattermost server version we answer as, so clients enable the features they expect. */
export const compatibleMattermostVersion = '10.5.0';

/**
 * The repository root, found from this file (so it does not depend on the current directory: a Jupyter kernel
 * starts in notebooks/, the CLI anywhere). Every other path of the repository is built from it.
 *
 * @module
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the repository root. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

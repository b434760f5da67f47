// domain.save / domain.restore paths: inside the agent's save directory only,
// so a caller cannot make libvirt write or read any file on the host.
import { isAbsolute, join, normalize, relative } from 'node:path';
import { CommandError } from '../../errors';

/** A path given by a command, inside saveDir (relative names are taken from it); else FORBIDDEN. */
export function savePath(saveDir: string, p: string): string {
  const full = normalize(isAbsolute(p) ? p : join(saveDir, p));
  const rel = relative(normalize(saveDir), full);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    throw new CommandError('FORBIDDEN', `path '${p}' is outside the agent's save directory ${saveDir}`);
  }
  return full;
}

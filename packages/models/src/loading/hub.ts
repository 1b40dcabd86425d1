/** The hub and the bundled model are both HttpSources; these name the URL layout. */
import { InvalidRepoIdError } from '../errors.js';
import { HttpSource, type HttpSourceOptions } from './http-source.js';

export const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';

export interface RepoRef {
  repo: string;
  revision: string;
}

// Hub names: letters, digits, '-', '_', '.'; no leading/trailing separators or "..".
const PART = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/;

/** `owner/name[@revision]` → { repo, revision } (revision defaults to "main"; it may be a branch, tag or commit). */
export function parseRepoId(id: string): RepoRef {
  const at = id.indexOf('@');
  const repo = (at < 0 ? id : id.slice(0, at)).trim();
  const revision = at < 0 ? 'main' : id.slice(at + 1).trim();
  const parts = repo.split('/');
  const ok = parts.length === 2 && parts.every((p) => PART.test(p) && !p.includes('..')) && revision !== '' && !/\s/.test(revision);
  if (!ok) throw new InvalidRepoIdError(id);
  return { repo, revision };
}

export interface HubSourceOptions extends HttpSourceOptions {
  /** Defaults to https://huggingface.co; tests point it at a local server. */
  endpoint?: string;
  /** A hub access token for gated or private repos (sent as a Bearer token). */
  token?: string;
}

/** A hub repository through `${endpoint}/${repo}/resolve/${revision}/${file}`. */
export function hubSource(repoId: string, options: HubSourceOptions = {}): HttpSource {
  const { repo, revision } = parseRepoId(repoId);
  const endpoint = (options.endpoint ?? DEFAULT_HUB_ENDPOINT).replace(/\/+$/, '');
  const headers = { ...options.headers, ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}) };
  const host = endpoint.replace(/^https?:\/\//, '');
  return new HttpSource(`${endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/`, {
    ...options,
    headers,
    name: options.name ?? `${host}/${repo}@${revision}`,
  });
}

/** The model shipped with the app (public/models/…): plain static files, no hub layout. */
export function bundledSource(baseUrl: string, options: HttpSourceOptions = {}): HttpSource {
  return new HttpSource(baseUrl, { name: 'the bundled model', ...options });
}

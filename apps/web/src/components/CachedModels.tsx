/** Hub models kept in this browser's cache, with their size and a remove action. */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { formatBytes } from '../lib/format.js';
import { listCachedModels, removeCachedModel } from '../lib/model-cache.js';

export const CACHE_KEY = ['model-cache'] as const;

export function CachedModels() {
  const qc = useQueryClient();
  const list = useQuery({ queryKey: CACHE_KEY, queryFn: listCachedModels });
  const remove = useMutation({ mutationFn: removeCachedModel, onSettled: () => qc.invalidateQueries({ queryKey: CACHE_KEY }) });
  if (!list.data?.length) return <p className="muted">No downloaded models are cached in this browser.</p>;
  return (
    <div>
      <h3>Cached downloads</h3>
      <ul aria-label="Cached models" className="cached">
        {list.data.map((m) => (
          <li key={m.base}>
            <span className="mono">{m.label}</span> · {formatBytes(m.bytes)} in {m.files} file{m.files === 1 ? '' : 's'}{' '}
            <button type="button" onClick={() => remove.mutate(m.base)} aria-label={`Remove ${m.label} from the cache`} disabled={remove.isPending}>
              Remove
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "../api/client";

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | null;
  loading: boolean;
  reload: () => Promise<void>;
}

/** Load something when the view opens (and when `deps` change); `reload` fetches it again. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(true);
  const latest = useRef(0);
  const reload = useCallback(async () => {
    const run = ++latest.current;
    setLoading(true);
    try {
      const value = await load();
      if (run === latest.current) {
        setData(value);
        setError(null);
      }
    } catch (caught) {
      if (run === latest.current) setError(asApiError(caught));
    } finally {
      if (run === latest.current) setLoading(false);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { data, error, loading, reload };
}

/** Run `step` every `seconds` while the page is visible (the queue's look for new tickets). */
export function useInterval(step: () => void, seconds: number): void {
  const saved = useRef(step);
  saved.current = step;
  useEffect(() => {
    if (!seconds) return undefined;
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") saved.current();
    }, seconds * 1000);
    return () => clearInterval(timer);
  }, [seconds]);
}

export function asApiError(caught: unknown): ApiError {
  if (caught instanceof ApiError) return caught;
  return new ApiError({ title: "Something went wrong", status: 0, detail: String(caught) });
}

/** An action's state: run it, and show its problem if it fails. */
export function useAction<A extends unknown[]>(
  action: (...args: A) => Promise<unknown>,
): { run: (...args: A) => Promise<boolean>; busy: boolean; error: ApiError | null; clear: () => void } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const run = async (...args: A) => {
    setBusy(true);
    setError(null);
    try {
      await action(...args);
      return true;
    } catch (caught) {
      setError(asApiError(caught));
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { run, busy, error, clear: () => setError(null) };
}

export interface Page<T> {
  items: T[];
  next_cursor?: string | null;
}

export interface Paged<T> {
  items: T[];
  error: ApiError | null;
  loading: boolean;
  /** Fetch the next page and add it; null when there is none. */
  more: (() => Promise<void>) | null;
  reload: () => Promise<void>;
}

/** A list the API pages by cursor: the first page when `deps` change, the next ones on demand. */
export function usePaged<T>(load: (cursor: string | null) => Promise<Page<T>>, deps: unknown[]): Paged<T> {
  const [items, setItems] = useState<T[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(true);
  const latest = useRef(0);
  const fetchPage = async (cursor: string | null) => {
    const run = ++latest.current;
    setLoading(true);
    try {
      const page = await load(cursor);
      if (run !== latest.current) return;
      setItems((shown) => (cursor ? [...shown, ...page.items] : page.items));
      setNext(page.next_cursor ?? null);
      setError(null);
    } catch (caught) {
      if (run === latest.current) setError(asApiError(caught));
    } finally {
      if (run === latest.current) setLoading(false);
    }
  };
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const reload = useCallback(() => fetchPage(null), deps);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { items, error, loading, more: next ? () => fetchPage(next) : null, reload };
}

/**
 * What the client does on the page's lifecycle events.
 *
 * @example
 * ```ts
 * const hooks: PageHooks = { hide: suspend, show: resume, visible: retryNow, online: retryNow, offline: pause };
 * ```
 */
export interface PageHooks {
  /** `pagehide`: the page is unloaded or goes to the back/forward cache. */
  hide(): void;
  /** `pageshow` from the back/forward cache. */
  show(): void;
  /** The page became visible. */
  visible(): void;
  /** The browser came online. */
  online(): void;
  /** The browser went offline. */
  offline(): void;
}

interface PageGlobals {
  readonly window?: EventTarget;
  readonly document?: EventTarget & { readonly visibilityState?: string };
}

/**
 * Listens to the page's lifecycle, where there is a page (`window` and `document`); returns the function that stops.
 *
 * @example
 * ```ts
 * const unwatch = watchPage(hooks);
 * ```
 */
export function watchPage(hooks: PageHooks): () => void {
  const { window: page, document } = globalThis as PageGlobals;
  if (!page || !document) return () => {};
  const listeners: Array<[EventTarget, string, (event: Event) => void]> = [
    [page, 'pagehide', () => hooks.hide()],
    [page, 'pageshow', (event) => (event as { persisted?: boolean }).persisted && hooks.show()],
    [document, 'visibilitychange', () => document.visibilityState === 'visible' && hooks.visible()],
    [page, 'online', () => hooks.online()],
    [page, 'offline', () => hooks.offline()],
  ];
  for (const [target, name, listener] of listeners) target.addEventListener(name, listener);
  return () => {
    for (const [target, name, listener] of listeners) target.removeEventListener(name, listener);
  };
}

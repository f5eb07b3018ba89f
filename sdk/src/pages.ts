import type { Page } from "./types.ts";

/**
 * A list of the API, read lazily: `for await (const item of list)` follows `nextCursor` from
 * page to page (one request per page, newest first) until the last; `pages()` yields whole
 * pages. Nothing is requested until iteration starts; each iteration starts afresh.
 */
export class PageIterator<T> implements AsyncIterable<T> {
  readonly #fetchPage: (cursor: string | undefined) => Promise<Page<T>>;
  readonly #startAfter: string | undefined;

  constructor(fetchPage: (cursor: string | undefined) => Promise<Page<T>>, startAfter?: string) {
    this.#fetchPage = fetchPage;
    this.#startAfter = startAfter;
  }

  /** Each page in turn, the first one from the query's `cursor` if it had one. */
  async *pages(): AsyncGenerator<Page<T>, void, undefined> {
    let cursor = this.#startAfter;
    do {
      const page = await this.#fetchPage(cursor);
      yield page;
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for await (const page of this.pages()) yield* page.data;
  }
}

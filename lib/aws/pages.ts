/** Every page of a NextToken-paged AWS call: `fetch` answers one page and the next token, if any. */
export async function pages<T>(
  fetch: (token?: string) => Promise<{ items: T[]; next?: string }>,
): Promise<T[]> {
  const all: T[] = [];
  let token: string | undefined;
  do {
    const page = await fetch(token);
    all.push(...page.items);
    token = page.next;
  } while (token);
  return all;
}

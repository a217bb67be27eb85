// How a front end uses the generated client: log in, page through posts by cursor, write a
// post. `make client` type-checks this file against the types generated from the API's
// OpenAPI document, so a schema change that would break such code breaks the build.
import createClient, { type Middleware } from "openapi-fetch";

import type { components, paths } from "./schema";

export type PostSummary = components["schemas"]["PostSummary"];
export type Post = components["schemas"]["Post"];
export type Problem = components["schemas"]["Problem"];

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(`${problem.status} ${problem.title}: ${problem.detail}`);
  }
}

export function blogClient(baseUrl: string) {
  return createClient<paths>({ baseUrl });
}

export type BlogClient = ReturnType<typeof blogClient>;

/** Logs in with a username (or an email) and a password; later requests carry the token. */
export async function logIn(client: BlogClient, login: string, password: string): Promise<number> {
  const { data, error } = await client.POST("/api/v1/auth/token", {
    body: { username: login, password },
    // OAuth2's password form is application/x-www-form-urlencoded, not JSON.
    bodySerializer: (form) => {
      const fields = new URLSearchParams();
      for (const [name, value] of Object.entries(form)) {
        if (typeof value === "string") fields.set(name, value);
      }
      return fields;
    },
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
  });
  if (error) throw new ApiError(error);
  const bearer: Middleware = {
    onRequest({ request }) {
      request.headers.set("Authorization", `${data.token_type} ${data.access_token}`);
      return request;
    },
  };
  client.use(bearer);
  return data.expires_in;
}

export type PostSummaryList = components["schemas"]["PostSummaryPage"];

/** "page 2 of 7 (137 posts)" in page mode; in cursor mode the counts are null. */
export function position(list: PostSummaryList): string {
  if (list.total === null || list.page === null || list.pages === null) {
    return `${list.items.length} more`;
  }
  return `page ${list.page} of ${list.pages} (${list.total} posts)`;
}

/** One page of the published posts with `tag`: the first, or the one after `cursor`. */
export async function postsTagged(
  client: BlogClient,
  tag: string,
  cursor: string | null,
): Promise<PostSummaryList> {
  const query = cursor === null ? { tag, per_page: 100 } : { tag, per_page: 100, cursor };
  const { data, error } = await client.GET("/api/v1/posts", { params: { query } });
  if (error) throw new ApiError(error);
  return data;
}

/** Every published post with `tag`, walking the list by cursor (no page counting). */
export async function allPostsTagged(client: BlogClient, tag: string): Promise<PostSummary[]> {
  const posts: PostSummary[] = [];
  let cursor: string | null = null;
  do {
    const page = await postsTagged(client, tag, cursor);
    posts.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor !== null);
  return posts;
}

/** The newest post's title, or null when there is none. */
export async function newestTitle(client: BlogClient): Promise<string | null> {
  const { data, error } = await client.GET("/api/v1/posts", {
    params: { query: { sort: "-created_at", per_page: 1 } },
  });
  if (error) throw new ApiError(error);
  const first = data.items[0]; // possibly undefined: noUncheckedIndexedAccess
  return first === undefined ? null : first.title;
}

/** Publishes a post; answers it with the path the server gave it (the Location header). */
export async function publish(
  client: BlogClient,
  title: string,
  content: string,
  tags: string[],
): Promise<{ post: Post; location: string | null }> {
  const { data, error, response } = await client.POST("/api/v1/posts", {
    body: { title, content, tags, published: true },
  });
  if (error) {
    if (error.status === 422 && "errors" in error) {
      const where = error.errors.map((item) => item.loc.join(".")).join(", ");
      throw new Error(`invalid post (${where}): ${error.detail}`);
    }
    throw new ApiError(error);
  }
  return { post: data, location: response.headers.get("Location") };
}

/** The whole walk a front end does on start. */
export async function demo(baseUrl: string, login: string, password: string): Promise<void> {
  const client = blogClient(baseUrl);
  await logIn(client, login, password);
  const { post, location } = await publish(client, "Hello", "First words.", ["hello"]);
  const tagged = await allPostsTagged(client, "hello");
  const newest = await newestTitle(client);
  const first = await postsTagged(client, "hello", null);
  console.log(post.slug, location, tagged.length, newest, position(first));
}

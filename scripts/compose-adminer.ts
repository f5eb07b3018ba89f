import { fail, SmokeError } from "./smoke-http.ts";

/**
 * `node scripts/compose-adminer.ts` (scripts/compose-check.sh): logs in to Adminer (ADMINER_URL,
 * default http://127.0.0.1:8080) with its login form, as a browser does, with the documented
 * credentials (server postgres, user postgres, POSTGRES_PASSWORD or postgres, database billing),
 * and finds the tables; then checks that a wrong password does not get that far.
 */

/** Adminer's login form posted as a browser does (its session cookie kept), then the page it leads to. */
async function adminerLogin(url: string, password: string): Promise<{ status: number; page: string }> {
  const cookies = new Map<string, string>();
  const keep = (res: Response) => {
    for (const c of res.headers.getSetCookie()) {
      const [pair = ""] = c.split(";");
      const eq = pair.indexOf("=");
      if (eq > 0) cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
  };
  const cookie = () => [...cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  const form = await fetch(`${url}/`, { signal: AbortSignal.timeout(10_000) });
  const text = await form.text();
  if (form.status !== 200 || !text.includes('name="auth[username]"'))
    fail(`Adminer's login page: ${form.status}`);
  keep(form);
  const login = {
    "auth[driver]": "pgsql",
    "auth[server]": "postgres",
    "auth[username]": "postgres",
    "auth[password]": password,
    "auth[db]": "billing",
  };
  let res = await fetch(`${url}/`, {
    method: "POST",
    body: new URLSearchParams(login),
    headers: { cookie: cookie() },
    redirect: "manual",
    signal: AbortSignal.timeout(10_000),
  });
  for (let hops = 0; res.status >= 300 && res.status < 400 && hops < 5; hops++) {
    keep(res);
    const next = new URL(res.headers.get("location") ?? "/", url);
    res = await fetch(next, {
      headers: { cookie: cookie() },
      redirect: "manual",
      signal: AbortSignal.timeout(10_000),
    });
  }
  return { status: res.status, page: await res.text() };
}

async function main(): Promise<void> {
  const url = (process.env.ADMINER_URL || "http://127.0.0.1:8080").replace(/\/$/, "");
  const password = process.env.POSTGRES_PASSWORD || "postgres";
  const tables = ["wallets", "operations", "entries"];
  const shows = (page: string) => tables.every((t) => page.includes(`table=${t}`));
  const good = await adminerLogin(url, password);
  if (good.status !== 200 || !shows(good.page)) {
    fail(
      `Adminer did not log in to billing as postgres (${good.status}): ${good.page.match(/class=.error.>[^<]*/)?.[0] ?? "no table list"}`,
    );
  }
  const bad = await adminerLogin(url, `${password}-wrong`);
  if (shows(bad.page))
    fail("Adminer showed the tables after a wrong password too: the check above proves nothing");
  console.log(
    `adminer: ${url} logs in to billing as postgres and lists ${tables.join(", ")}; a wrong password is refused (${bad.status})`,
  );
}

try {
  await main();
} catch (err) {
  console.error(`compose-adminer: ${err instanceof SmokeError ? err.message : String(err)}`);
  process.exitCode = 1;
}

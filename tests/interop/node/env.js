// Settings handed over by tests/interop/run (environment), and a browser-less citizen login:
// the same HTTP requests a browser makes, with a cookie jar and manual redirects.

import assert from 'node:assert/strict'

export function need(name) {
  const v = process.env[name]
  if (!v) throw new Error(`${name} is not set: run these tests through tests/interop/run`)
  return v
}

export const env = {
  issuer: () => need('INTEROP_ISSUER'),
  vneid: () => need('INTEROP_VNEID'),
  rpBase: () => need('INTEROP_RP_BASE'),
  citizen: () => ({ id: need('INTEROP_CITIZEN_ID'), passcode: need('INTEROP_CITIZEN_PASSCODE') }),
}

/** Cookies by host name, not port, as browsers keep them (RFC 6265 §8.5). */
export class CookieJar {
  constructor() {
    this.byHost = new Map()
  }
  store(url, response) {
    const host = new URL(url).hostname
    const jar = this.byHost.get(host) ?? new Map()
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim())
      const eq = pair.indexOf('=')
      const name = pair.slice(0, eq)
      const value = pair.slice(eq + 1)
      const maxAge = attrs.find((a) => a.toLowerCase().startsWith('max-age='))
      if (maxAge && Number(maxAge.split('=')[1]) <= 0) jar.delete(name)
      else jar.set(name, value)
    }
    this.byHost.set(host, jar)
  }
  header(url) {
    const jar = this.byHost.get(new URL(url).hostname)
    if (!jar || jar.size === 0) return undefined
    return [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
  }
}

/** One request as a browser would make it, without following redirects. */
export async function browse(jar, url, { method = 'GET', form } = {}) {
  const headers = { accept: 'text/html', 'accept-language': 'vi' }
  const cookie = jar.header(url)
  if (cookie) headers.cookie = cookie
  let body
  if (form) {
    body = new URLSearchParams(form).toString()
    headers['content-type'] = 'application/x-www-form-urlencoded'
  }
  const r = await fetch(url, { method, headers, body, redirect: 'manual' })
  jar.store(url, r)
  const location = r.headers.get('location')
  return { status: r.status, location: location ? new URL(location, url).href : null, text: await r.text(), url }
}

function expectRedirect(step, r) {
  assert.ok(
    r.status >= 300 && r.status < 400 && r.location,
    `${step}: expected a redirect from ${r.url}, got HTTP ${r.status}: ${r.text.slice(0, 300)}`,
  )
  return r.location
}

// One pass, so an escaped entity is never decoded twice.
const unescapeHtml = (s) =>
  s.replace(/&(#\d+|#x[0-9a-f]+|amp|quot|lt|gt|apos);/gi, (_, e) =>
    e[0] === '#'
      ? String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : Number(e.slice(1)))
      : { amp: '&', quot: '"', lt: '<', gt: '>', apos: "'" }[e.toLowerCase()],
  )

/** A response_mode=form_post page, as the POST the browser's script would make, or null. */
export function formPostOf(r) {
  if (r.location || !/id="form-post"/.test(r.text)) return null
  const action = unescapeHtml(/<form method="post" action="([^"]+)" id="form-post">/.exec(r.text)[1])
  const fields = new URLSearchParams()
  for (const m of r.text.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
    fields.append(unescapeHtml(m[1]), unescapeHtml(m[2]))
  }
  return new Request(action, {
    method: 'POST',
    body: fields,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  })
}

/**
 * Drives a citizen login from the authorization URL to the client's redirect URI and returns
 * that final URL (with code, state, iss), or, for response_mode=form_post, the POST the browser
 * would make to it (a Request). Consent is allowed when the OP asks for it.
 */
export async function citizenLogin(
  authorizationUrl,
  { jar = new CookieJar(), citizen = env.citizen(), trace = [], backToService = false } = {},
) {
  const issuer = env.issuer()
  let url = expectRedirect('authorize', await browse(jar, authorizationUrl.toString()))
  const login = new URL(url)
  assert.equal(login.origin + login.pathname, `${issuer}/login`, `authorize should go to the login page, went to ${url}`)
  const tx = login.searchParams.get('tx')
  const page = await browse(jar, url)
  assert.equal(page.status, 200, `login page: HTTP ${page.status}`)
  assert.match(page.text, /id="login-vneid"/, 'login page offers the national e-ID')
  url = expectRedirect('POST /login/vneid', await browse(jar, `${issuer}/login/vneid`, { method: 'POST', form: { tx } }))
  const eid = await browse(jar, url)
  assert.equal(eid.status, 200, `e-ID login page: HTTP ${eid.status}: ${eid.text.slice(0, 300)}`)
  const txn = /name="txn" value="([^"]+)"/.exec(eid.text)?.[1]
  assert.ok(txn, 'the e-ID login page carries a txn')
  url = expectRedirect(
    'e-ID login',
    await browse(jar, `${env.vneid()}/oauth2/login`, {
      method: 'POST',
      form: { txn, login: citizen.id, passcode: citizen.passcode },
    }),
  )
  // Back at xacthuc: the callback, then consent (or straight to the client if trusted/consented).
  for (let hops = 0; hops < 6; hops++) {
    if (!url.startsWith(issuer)) return new URL(url)
    const u = new URL(url)
    trace.push(u.pathname)
    if (u.pathname === '/consent') {
      const consent = await browse(jar, url)
      assert.equal(consent.status, 200, `consent page: HTTP ${consent.status}: ${consent.text.slice(0, 300)}`)
      assert.match(consent.text, /id="consent-allow"/)
      const r = await browse(jar, `${issuer}/consent`, {
        method: 'POST',
        form: { tx: u.searchParams.get('tx'), decision: 'allow' },
      })
      const post = formPostOf(r)
      if (post) return post
      url = expectRedirect('POST /consent', r)
    } else {
      const r = await browse(jar, url)
      const post = formPostOf(r)
      if (post) return post
      const back = /id="back-to-service"/.test(r.text) && {
        tx: unescapeHtml(/name="tx" value="([^"]+)"/.exec(r.text)?.[1] ?? ''),
        reason: unescapeHtml(/name="reason" value="([^"]+)"/.exec(r.text)?.[1] ?? ''),
      }
      if (backToService && !r.location && back) {
        // A failure page: the citizen clicks "back to the service" (a POST in this browser),
        // which gives the service the OAuth error.
        trace.push(`failed:${r.status}`)
        url = expectRedirect('back to the service', await browse(jar, `${issuer}/login/abort`, { method: 'POST', form: back }))
      } else {
        url = expectRedirect(u.pathname, r)
      }
    }
  }
  throw new Error(`citizen login did not reach the client; stuck at ${url}`)
}

/** Whether this build of xacthuc has citizen login (the route answers something but 404). */
export async function citizenLoginAvailable() {
  const r = await fetch(`${env.issuer()}/login/vneid`, { method: 'POST', redirect: 'manual' })
  return r.status !== 404 && r.status !== 405
}

/** In CI a missing feature is a failure; on a developer machine it is a skip with a reason. */
export async function requireCitizenLogin(t) {
  if (await citizenLoginAvailable()) return true
  if (process.env.CI === 'true') throw new Error('citizen login (POST /login/vneid) is not available in this build')
  t.skip('citizen login is not in this build yet')
  return false
}

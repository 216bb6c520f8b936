// Headless Chromium (Debian's package, driven by playwright-core) through officer login on the
// demo portal: a fresh officer imported with the CLI opens its set-up link, sets a password,
// logs in and enrols TOTP inside the login (code computed here, RFC 6238), takes the recovery
// codes, then registers a passkey on /officer/security with Chromium's virtual authenticator
// and logs in again with password + passkey (acr officer-hwk). Finally the demo officer
// printed by `xacthuc dev` logs in on a phone-sized screen with its printed password and TOTP
// secret. Screenshots go to target/interop-screenshots/officer-*.png.

import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createHmac, randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'

import { chromium, devices } from 'playwright-core'

import { need } from '../node/env.js'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]
const HWK = 'urn:xacthuc:acr:officer-hwk'
const MFA = 'urn:xacthuc:acr:officer-mfa'

let browser
const shots = () => need('INTEROP_SCREENSHOTS')
const shot = (page, name) => page.screenshot({ path: path.join(shots(), `officer-${name}.png`), fullPage: true })

before(async () => {
  mkdirSync(shots(), { recursive: true })
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true })
})
after(async () => browser?.close())

/** RFC 4648 base32 (no padding needed) to bytes. */
function base32Decode(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let bits = 0
  let value = 0
  const out = []
  for (const ch of s.replace(/[\s=]/g, '').toUpperCase()) {
    const i = alphabet.indexOf(ch)
    if (i < 0) throw new Error(`not base32: ${ch}`)
    value = (value << 5) | i
    bits += 5
    if (bits >= 8) {
      bits -= 8
      out.push((value >>> bits) & 0xff)
    }
  }
  return Buffer.from(out)
}

/** RFC 6238 TOTP: HMAC-SHA1, 30 s steps, 6 digits (RFC 4226 dynamic truncation). */
export function totp(base32Secret, now = Date.now()) {
  const counter = Buffer.alloc(8)
  counter.writeBigUInt64BE(BigInt(Math.floor(now / 1000 / 30)))
  const mac = createHmac('sha1', base32Decode(base32Secret)).update(counter).digest()
  const offset = mac[mac.length - 1] & 0x0f
  const bin = mac.readUInt32BE(offset) & 0x7fffffff
  return String(bin % 1_000_000).padStart(6, '0')
}

/** Sanity check of the generator against RFC 6238 appendix B (SHA-1, T = 59 s: 94287082). */
test('TOTP generator matches RFC 6238 test vector', () => {
  const rfcSecret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ' // base32 of "12345678901234567890"
  assert.equal(totp(rfcSecret, 59_000), '287082')
  assert.equal(totp(rfcSecret, 1_111_111_109_000), '081804')
})

/** Whether the page needs sideways scrolling (a phone must not). */
const overflow = (page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)

async function expectVietnamese(page, what) {
  assert.equal(await page.getAttribute('html', 'lang'), 'vi', `${what} is in Vietnamese`)
}

/** Portal -> provider's choice page -> "officer" -> the password form. */
async function toOfficerPassword(page, prefix) {
  const portal = need('INTEROP_PORTAL')
  const issuer = need('INTEROP_ISSUER')
  await page.goto(`${portal}/`)
  await Promise.all([page.waitForURL((u) => u.href.startsWith(`${issuer}/login`)), page.click('#login')])
  await page.waitForSelector('#login-officer')
  await expectVietnamese(page, 'the login choice page')
  await shot(page, `${prefix}choice`)
  await Promise.all([page.waitForSelector('#officer-password'), page.click('#login-officer')])
  await expectVietnamese(page, 'the officer password page')
  await shot(page, `${prefix}password`)
}

/** Submits username and password; resolves when the next page (second factor) is there. */
async function submitPassword(page, username, password, next) {
  await page.fill('#username', username)
  await page.fill('#password', password)
  await Promise.all([page.waitForSelector(next), page.click('#officer-password button[type="submit"]')])
}

/** After the last login step: consent if asked, then the portal's claims. Returns them as text. */
async function backAtPortal(page, prefix) {
  const portal = need('INTEROP_PORTAL')
  const issuer = need('INTEROP_ISSUER')
  await page.waitForURL((u) => u.href.startsWith(portal) || u.href.startsWith(`${issuer}/consent`))
  if (page.url().startsWith(`${issuer}/consent`)) {
    await page.waitForSelector('#consent-allow')
    await expectVietnamese(page, 'the consent page')
    await shot(page, `${prefix}consent`)
    await Promise.all([page.waitForURL((u) => u.href.startsWith(portal)), page.click('#consent-allow')])
  }
  await page.waitForSelector('#claims')
  await shot(page, `${prefix}portal-claims`)
  return page.textContent('main')
}

/** The portal's claims table as name -> value (the ID token's and userinfo's rows alike). */
async function claimsOf(page) {
  return page.$$eval('#claims tbody tr', (rows) =>
    rows.map((r) => [r.querySelector('th code')?.textContent ?? '', r.querySelectorAll('td')[1]?.textContent ?? '']),
  )
}

async function portalLogout(page) {
  const portal = need('INTEROP_PORTAL')
  await Promise.all([
    page.waitForURL((u) => u.href.startsWith(portal) && !u.pathname.startsWith('/callback')),
    page.click('#logout'),
  ])
  await page.waitForSelector('#login')
}

/** Imports one officer with the CLI (same data directory as the server) and returns its set-up link. */
function importOfficer(username, fullName) {
  const dir = mkdtempSync(path.join(tmpdir(), 'xacthuc-officer-'))
  try {
    const csv = path.join(dir, 'officers.csv')
    const links = path.join(dir, 'links.csv')
    writeFileSync(
      csv,
      'username,full_name,personal_id,email,phone,unit_code,position,roles\n' +
        `${username},${fullName},,,,demo.x1,Chuyên viên,\n`,
    )
    execFileSync(need('INTEROP_XACTHUC_BIN'), ['officers', 'import', csv, '--links-out', links], { stdio: 'pipe' })
    const lines = readFileSync(links, 'utf8').trim().split('\n')
    const row = lines.map((l) => l.split(',')).find(([u]) => u === username)
    assert.ok(row, `the links file has a set-up link for ${username}: ${lines.length} line(s)`)
    return row[1]
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The demo officer's password and TOTP secret, as `xacthuc dev` printed them at start-up. */
function demoOfficer(username) {
  const log = readFileSync(need('INTEROP_SERVER_LOG'), 'utf8')
  const line = log.split('\n').find((l) => l.trim().startsWith(`${username} `))
  const m = line && /password (\S+)\s+TOTP secret ([A-Z2-7]+)/.exec(line)
  assert.ok(m, `xacthuc dev printed ${username}'s password and TOTP secret`)
  return { password: m[1], secret: m[2] }
}

describe('officer login in a browser', () => {
  const username = `cb.pw${randomBytes(3).toString('hex')}`
  // Strong under zxcvbn (score >= 3) and unrelated to the username or name.
  const password = `Sao-Khue-${randomBytes(6).toString('base64url')}-Trang-Ram!`
  const context = { browser: null, page: null, cdp: null }

  before(async () => {
    context.browser = await browser.newContext({ locale: 'vi-VN' })
    context.page = await context.browser.newPage()
  })
  after(async () => context.browser?.close())

  test('set-up link -> password -> TOTP enrolment -> recovery codes -> portal', async () => {
    const { page } = context
    try {
      const link = importOfficer(username, 'Phạm Thị Thử')
      assert.ok(link.startsWith(`${need('INTEROP_ISSUER')}/officer/setup?token=`), `set-up link: ${link.slice(0, 60)}…`)
      await page.goto(link)
      await page.waitForSelector('#officer-setup')
      await expectVietnamese(page, 'the set-up page')
      await shot(page, '01-setup')
      // A weak password is refused with a message, and nothing is spent.
      await page.fill('#password', '12345678')
      await page.fill('#confirm', '12345678')
      await Promise.all([page.waitForSelector('#officer-error'), page.click('#officer-setup button[type="submit"]')])
      await shot(page, '02-setup-weak')
      await page.fill('#password', password)
      await page.fill('#confirm', password)
      await Promise.all([page.waitForSelector('#officer-message'), page.click('#officer-setup button[type="submit"]')])
      assert.equal(await page.getAttribute('#officer-message', 'role'), 'status', await page.textContent('main'))
      await shot(page, '03-setup-done')

      await toOfficerPassword(page, '04-')
      await submitPassword(page, username, password, '#officer-enrol')
      await expectVietnamese(page, 'the enrolment page')
      assert.match((await page.getAttribute('#totp-qr', 'src')) ?? '', /^data:image\/png;base64,/)
      await shot(page, '05-enrol')
      const secret = (await page.textContent('#totp-secret')).trim()
      // A wrong code activates nothing and says so.
      const wrong = totp(secret) === '000000' ? '111111' : '000000'
      await page.fill('#code', wrong)
      await Promise.all([page.waitForSelector('#officer-error'), page.click('#officer-enrol button[type="submit"]')])
      await shot(page, '06-enrol-wrong')
      await page.fill('#code', totp(secret))
      await Promise.all([page.waitForSelector('#recovery-codes'), page.click('#officer-enrol button[type="submit"]')])
      const codes = await page.$$eval('#recovery-codes code', (cs) => cs.map((c) => c.textContent))
      assert.equal(codes.length, 10, `ten recovery codes: ${codes}`)
      await shot(page, '07-recovery-codes')
      await page.click('#codes-continue button[type="submit"]')
      const text = await backAtPortal(page, '08-')
      const claims = new Map(await claimsOf(page))
      assert.ok(text.includes('Phạm Thị Thử'), `the portal shows the officer's name: ${text.slice(0, 400)}`)
      assert.equal(claims.get('acr'), MFA, `acr after password + TOTP: ${[...claims]}`)
      assert.match(claims.get('amr') ?? '', /otp/, 'amr names the one-time password')
      // (The portal asks for openid profile only, so the officer scope's unit is not shown.)
    } catch (e) {
      await shot(page, 'zz-enrol-failure').catch(() => {})
      throw e
    }
  })

  test('passkey on /officer/security (virtual authenticator), then password + passkey', async () => {
    const { page } = context
    const issuer = need('INTEROP_ISSUER')
    try {
      const cdp = await context.browser.newCDPSession(page)
      await cdp.send('WebAuthn.enable')
      const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: {
          protocol: 'ctap2',
          transport: 'internal',
          hasResidentKey: true,
          hasUserVerification: true,
          isUserVerified: true,
        },
      })
      // The provider session from the first login still holds (mfa): straight to the page.
      await page.goto(`${issuer}/officer/security`)
      await page.waitForSelector('#webauthn-form')
      await expectVietnamese(page, 'the security page')
      await shot(page, '10-security')
      assert.equal(await page.$$eval('#passkeys tbody tr', (r) => r.length), 0, 'no passkey yet')
      await page.fill('#key-name', 'Chromium ảo')
      await Promise.all([
        page.waitForFunction(() => document.querySelectorAll('#passkeys tbody tr').length === 1),
        page.click('#add-key'),
      ])
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId })
      assert.equal(credentials.length, 1, 'the virtual authenticator holds one credential')
      assert.equal(await page.inputValue('#passkeys tbody tr input[name="name"]'), 'Chromium ảo')
      await shot(page, '11-security-passkey')

      await page.goto(need('INTEROP_PORTAL'))
      await portalLogout(page)
      await toOfficerPassword(page, '12-')
      await submitPassword(page, username, password, '#webauthn-form')
      assert.ok(await page.$('#officer-otp'), 'TOTP is still offered next to the passkey')
      await shot(page, '13-second-factor')
      await page.click('#use-key')
      await backAtPortal(page, '14-')
      const claims = new Map(await claimsOf(page))
      assert.equal(claims.get('acr'), HWK, `acr after password + passkey: ${[...claims]}`)
      assert.match(claims.get('amr') ?? '', /hwk/, 'amr names the hardware key')
      await portalLogout(page)
    } catch (e) {
      await shot(page, 'zz-passkey-failure').catch(() => {})
      throw e
    }
  })
})

test('demo officer from the dev banner, on a phone', async () => {
  const demo = demoOfficer('demo.canbo')
  const context = await browser.newContext({ ...devices['Pixel 7'], locale: 'vi-VN' })
  const page = await context.newPage()
  try {
    await toOfficerPassword(page, 'mobile-01-')
    assert.ok((await overflow(page)) <= 1, `officer password page scrolls sideways by ${await overflow(page)}px`)
    await submitPassword(page, 'demo.canbo', demo.password, '#officer-otp')
    await expectVietnamese(page, 'the second-factor page')
    await shot(page, 'mobile-02-otp')
    assert.ok((await overflow(page)) <= 1, `second-factor page scrolls sideways by ${await overflow(page)}px`)
    await page.fill('#code', totp(demo.secret))
    await page.click('#officer-otp button[type="submit"]')
    await backAtPortal(page, 'mobile-03-')
    const claims = new Map(await claimsOf(page))
    assert.equal(claims.get('acr'), MFA, `acr after password + TOTP: ${[...claims]}`)
  } catch (e) {
    await shot(page, 'zz-mobile-failure').catch(() => {})
    throw e
  } finally {
    await context.close()
  }
})

// The portal's English link sends ui_locales=en; the officer pages follow it. (The choice page's
// own "English" link does not switch the language yet: it is not tested here, see the report.)
test('officer pages in English when the service asks for English', async () => {
  const context = await browser.newContext({ locale: 'vi-VN' })
  const page = await context.newPage()
  try {
    const issuer = need('INTEROP_ISSUER')
    await page.goto(`${need('INTEROP_PORTAL')}/?lang=en`)
    assert.equal(await page.getAttribute('html', 'lang'), 'en', 'the portal is in English')
    await Promise.all([page.waitForURL((u) => u.href.startsWith(`${issuer}/login`)), page.click('#login')])
    await page.waitForSelector('#login-officer')
    assert.equal(await page.getAttribute('html', 'lang'), 'en', 'the choice page is in English')
    await Promise.all([page.waitForSelector('#officer-password'), page.click('#login-officer')])
    assert.equal(await page.getAttribute('html', 'lang'), 'en', 'the officer password page is in English')
    await shot(page, 'en-01-password')
  } catch (e) {
    await shot(page, 'zz-en-failure').catch(() => {})
    throw e
  } finally {
    await context.close()
  }
})

// The admin console: the demo super-administrator logs in with password + TOTP, creates an
// officer, and logs out; the new officer opens the one-time link, chooses a password, enrols
// TOTP inside the login and reaches the demo portal.
test('administrator creates an officer in the console; the officer enrols TOTP and logs in', async () => {
  const admin = demoOfficer('demo.admin')
  const issuer = need('INTEROP_ISSUER')
  const username = `cb.ad${randomBytes(3).toString('hex')}`
  const password = `Hoa-Sen-${randomBytes(6).toString('base64url')}-Mua-Thu!`
  const adminCtx = await browser.newContext({ locale: 'vi-VN' })
  const officerCtx = await browser.newContext({ locale: 'vi-VN' })
  let page = await adminCtx.newPage()
  try {
    await page.goto(`${issuer}/admin`)
    await page.waitForSelector('#login-officer')
    assert.equal(await page.$('#login-vneid'), null, 'the console offers no citizen login')
    await Promise.all([page.waitForSelector('#officer-password'), page.click('#login-officer')])
    await shot(page, 'admin-01-password')
    await submitPassword(page, 'demo.admin', admin.password, '#officer-otp')
    await page.fill('#code', totp(admin.secret))
    await Promise.all([page.waitForSelector('#officers'), page.click('#officer-otp button[type="submit"]')])
    await expectVietnamese(page, 'the console')
    assert.ok((await page.textContent('#officers')).includes('demo.canbo'), 'the province officers are listed')
    await shot(page, 'admin-02-officers')
    await Promise.all([page.waitForSelector('#officer-form'), page.click('#new-officer')])
    await page.fill('#username', username)
    await page.fill('#full_name', 'Đỗ Thị Quản Lý Tạo')
    await page.fill('#unit_code', 'demo.x1')
    await page.fill('#position', 'Văn thư')
    await shot(page, 'admin-03-new-officer')
    await Promise.all([page.waitForSelector('#values'), page.click('#create')])
    const link = (await page.textContent('#values code')).trim()
    assert.ok(link.startsWith(`${issuer}/officer/setup?token=`), `a one-time set-up link: ${link.slice(0, 60)}…`)
    await shot(page, 'admin-04-created')
    await page.goto(`${issuer}/admin/officers?q=${username}`)
    assert.ok((await page.textContent('#officers')).includes('Đỗ Thị Quản Lý Tạo'), 'the new officer is listed')
    await page.goto(`${issuer}/admin/audit?action=admin.officer.created`)
    assert.ok((await page.textContent('#audit')).includes(username), 'the creation is in the audit log')
    await shot(page, 'admin-05-audit')
    await Promise.all([page.waitForSelector('main a.button'), page.click('#logout')])

    page = await officerCtx.newPage()
    await page.goto(link)
    await page.waitForSelector('#officer-setup')
    await page.fill('#password', password)
    await page.fill('#confirm', password)
    await Promise.all([page.waitForSelector('#officer-message'), page.click('#officer-setup button[type="submit"]')])
    await toOfficerPassword(page, 'admin-06-')
    await submitPassword(page, username, password, '#officer-enrol')
    const secret = (await page.textContent('#totp-secret')).trim()
    await page.fill('#code', totp(secret))
    await Promise.all([page.waitForSelector('#recovery-codes'), page.click('#officer-enrol button[type="submit"]')])
    await page.click('#codes-continue button[type="submit"]')
    const text = await backAtPortal(page, 'admin-07-')
    assert.ok(text.includes('Đỗ Thị Quản Lý Tạo'), `the portal shows the new officer: ${text.slice(0, 400)}`)
    assert.equal(new Map(await claimsOf(page)).get('acr'), MFA)
  } catch (e) {
    await shot(page, 'zz-admin-failure').catch(() => {})
    throw e
  } finally {
    await adminCtx.close()
    await officerCtx.close()
  }
})

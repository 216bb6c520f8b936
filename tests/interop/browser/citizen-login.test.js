// Headless Chromium (Debian's package, driven by playwright-core) clicks through a citizen login
// on the demo portal: portal -> xacthuc login choice -> national e-ID form -> consent (in
// Vietnamese) -> the portal's claims page. Screenshots go to target/interop-screenshots/.

import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
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

let browser
const shots = () => need('INTEROP_SCREENSHOTS')
const shot = (page, name) => page.screenshot({ path: path.join(shots(), `${name}.png`), fullPage: true })

before(async () => {
  mkdirSync(shots(), { recursive: true })
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true })
})
after(async () => browser?.close())

/** Portal -> consent page; returns the page sitting on the consent form. */
async function toConsent(page, prefix, citizen = { id: need('INTEROP_CITIZEN_ID'), passcode: need('INTEROP_CITIZEN_PASSCODE') }) {
  const portal = need('INTEROP_PORTAL')
  const issuer = need('INTEROP_ISSUER')
  await page.goto(`${portal}/`)
  await shot(page, `${prefix}01-portal`)
  await Promise.all([page.waitForURL((u) => u.href.startsWith(`${issuer}/login`)), page.click('#login')])
  assert.equal(await page.getAttribute('html', 'lang'), 'vi', 'the login page is in Vietnamese')
  await shot(page, `${prefix}02-xacthuc-login`)
  await Promise.all([page.waitForURL((u) => u.href.startsWith(need('INTEROP_VNEID'))), page.click('#login-vneid')])
  await shot(page, `${prefix}03-eid-form`)
  await page.fill('input[name="login"]', citizen.id)
  await page.fill('input[name="passcode"]', citizen.passcode)
  await Promise.all([
    page.waitForURL((u) => u.href.startsWith(`${issuer}/consent`)),
    page.click('form[action="/oauth2/login"] button[type="submit"]'),
  ])
  await page.waitForSelector('#consent-allow')
  assert.equal(await page.getAttribute('html', 'lang'), 'vi', 'the consent page is in Vietnamese')
  return page
}

describe('citizen login in a browser', () => {
  test('portal -> login -> e-ID -> consent (vi) -> claims', async () => {
    const context = await browser.newContext({ locale: 'vi-VN' })
    const page = await context.newPage()
    try {
      await toConsent(page, '')
      const listed = await page.textContent('#consent-claims')
      assert.ok(listed && listed.trim().length > 0, 'the consent page lists what the service will receive')
      await shot(page, '04-consent')
      const portal = need('INTEROP_PORTAL')
      await Promise.all([page.waitForURL((u) => u.href.startsWith(portal)), page.click('#consent-allow')])
      await page.waitForSelector('#claims')
      const table = await page.textContent('#claims')
      assert.ok(
        table.includes(need('INTEROP_CITIZEN_NAME')),
        `the claims table shows the citizen's name (${need('INTEROP_CITIZEN_NAME')}); got: ${table.slice(0, 300)}`,
      )
      await shot(page, '05-portal-claims')
      // Log out from the portal: RP-initiated logout at xacthuc, back to the portal's home.
      await Promise.all([
        page.waitForURL((u) => u.href.startsWith(portal) && !u.pathname.startsWith('/callback')),
        page.click('#logout'),
      ])
      await page.waitForSelector('#login')
      await shot(page, '06-portal-logged-out')
    } catch (e) {
      await shot(page, 'zz-failure').catch(() => {})
      throw e
    } finally {
      await context.close()
    }
  })

  test('mobile viewport: login and consent pages', async () => {
    const context = await browser.newContext({ ...devices['Pixel 7'], locale: 'vi-VN' })
    const page = await context.newPage()
    try {
      const portal = need('INTEROP_PORTAL')
      await page.goto(`${portal}/`)
      await Promise.all([page.waitForURL((u) => u.pathname === '/login'), page.click('#login')])
      await shot(page, 'mobile-01-xacthuc-login')
      // Nothing wider than the screen: a mobile-friendly page needs no horizontal scrolling.
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
      assert.ok(overflow <= 1, `login page scrolls sideways by ${overflow}px on a phone`)
      // Consent is remembered per citizen and service, so the phone uses a citizen who has not
      // consented to the portal yet.
      await toConsent(page, 'mobile-flow-', { id: need('INTEROP_CITIZEN2_ID'), passcode: need('INTEROP_CITIZEN2_PASSCODE') })
      await shot(page, 'mobile-02-consent')
      const overflow2 = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
      assert.ok(overflow2 <= 1, `consent page scrolls sideways by ${overflow2}px on a phone`)
    } catch (e) {
      await shot(page, 'zz-mobile-failure').catch(() => {})
      throw e
    } finally {
      await context.close()
    }
  })
})

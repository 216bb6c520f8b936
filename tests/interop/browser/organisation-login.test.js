// Headless Chromium clicks through an enterprise's login on the demo portal: "log in for a
// business" -> xacthuc login choice -> national e-ID form with the tax code -> consent to the
// organisation's data (in Vietnamese) -> the portal's claims page showing the enterprise, its
// legal representative and the person acting for it. Screenshots go to
// target/interop-screenshots/ (org-*.png).

import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'

import { chromium } from 'playwright-core'

import { need } from '../node/env.js'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync']
// The mock e-ID's demo enterprise (see `xacthuc-mocks demo_citizens`).
const ENTERPRISE = { taxCode: '0101234567', passcode: '246810', name: 'Công ty TNHH Phần mềm Sông Hồng' }

let browser
const shot = (page, name) => page.screenshot({ path: path.join(need('INTEROP_SCREENSHOTS'), `${name}.png`), fullPage: true })

before(async () => {
  mkdirSync(need('INTEROP_SCREENSHOTS'), { recursive: true })
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true })
})
after(async () => browser?.close())

describe('organisation login in a browser', () => {
  test('portal -> business login -> e-ID with tax code -> consent (vi) -> enterprise claims', async () => {
    const context = await browser.newContext({ locale: 'vi-VN' })
    const page = await context.newPage()
    const portal = need('INTEROP_PORTAL')
    const issuer = need('INTEROP_ISSUER')
    try {
      await page.goto(`${portal}/`)
      await shot(page, 'org-01-portal')
      await Promise.all([page.waitForURL((u) => u.href.startsWith(`${issuer}/login`)), page.click('#login-organisation')])
      // A service asking for organisations is offered the e-ID, never the officer login.
      assert.equal(await page.locator('#login-officer').count(), 0, 'no officer login for a business')
      await shot(page, 'org-02-xacthuc-login')
      await Promise.all([page.waitForURL((u) => u.href.startsWith(need('INTEROP_VNEID'))), page.click('#login-vneid')])
      await page.fill('input[name="login"]', ENTERPRISE.taxCode)
      await page.fill('input[name="passcode"]', ENTERPRISE.passcode)
      await shot(page, 'org-03-eid-form')
      await Promise.all([
        page.waitForURL((u) => u.href.startsWith(`${issuer}/consent`)),
        page.click('form[action="/oauth2/login"] button[type="submit"]'),
      ])
      assert.equal(await page.getAttribute('html', 'lang'), 'vi', 'the consent page is in Vietnamese')
      const listed = await page.textContent('#consent-claims')
      assert.ok(listed.includes('người đại diện theo pháp luật'), `consent names the organisation's data: ${listed}`)
      await shot(page, 'org-04-consent')
      await Promise.all([page.waitForURL((u) => u.href.startsWith(portal)), page.click('#consent-allow')])
      await page.waitForSelector('#claims')
      const table = await page.textContent('#claims')
      for (const want of [ENTERPRISE.name, ENTERPRISE.taxCode, 'enterprise', 'urn:xacthuc:acr:org-eid2', 'Trần Thị Bích Ngọc']) {
        assert.ok(table.includes(want), `the claims table shows ${want}; got: ${table.slice(0, 600)}`)
      }
      assert.ok(table.includes('act'), 'the acting person is named')
      await shot(page, 'org-05-portal-claims')
      await Promise.all([
        page.waitForURL((u) => u.href.startsWith(portal) && !u.pathname.startsWith('/callback')),
        page.click('#logout'),
      ])
      await page.waitForSelector('#login-organisation')
    } catch (e) {
      await shot(page, 'zz-org-failure').catch(() => {})
      throw e
    } finally {
      await context.close()
    }
  })
})

import { describe, expect, it } from 'vitest'
import { webContentType, webFilePath } from './web-ui.js'

describe('web UI paths', () => {
  it('maps request paths inside the root only', () => {
    expect(webFilePath('/srv/web', 'index.html')).toBe('/srv/web/index.html')
    expect(webFilePath('/srv/web', 'javascript/main.js')).toBe('/srv/web/javascript/main.js')
    expect(webFilePath('/srv/web', '')).toBe('/srv/web')
    expect(webFilePath('/srv/web', 'a%20b.css')).toBe('/srv/web/a b.css')
    for (const bad of [
      '../etc/passwd',
      '%2e%2e/etc/passwd',
      'a/../../x',
      '..%2fx',
      'a%00b',
      'a%5c..%5cb',
      '%zz',
    ]) {
      expect(webFilePath('/srv/web', bad), bad).toBeUndefined()
    }
  })

  it('names content types', () => {
    expect(webContentType('/a/index.html')).toBe('text/html; charset=utf-8')
    expect(webContentType('/a/main.JS')).toBe('text/javascript; charset=utf-8')
    expect(webContentType('/a/x.png')).toBe('image/png')
    expect(webContentType('/a/x.bin')).toBe('application/octet-stream')
  })
})

// Express receiver. X-Signature is the hex HMAC-SHA256 of the raw
// body, keyed with the webhook's secret: verify it before parsing.
const crypto = require('crypto')
const express = require('express')

const app = express()
const raw = express.raw({ type: 'application/json' })

app.post('/webhooks', raw, (req, res) => {
  const sig = req.headers['x-signature'] || ''
  const expected = crypto
    .createHmac('sha256', process.env.WEBHOOK_SECRET)
    .update(req.body) // the raw body, a Buffer, exactly as received
    .digest('hex')
  const valid = sig.length === expected.length &&
    crypto.timingSafeEqual(Buffer.from(sig), Buffer.from(expected))
  if (!valid) return res.status(401).send('bad signature')

  const event = JSON.parse(req.body)
  console.log(`received ${event.type} ${event.id}`)
  res.sendStatus(204) // any 2xx acknowledges the delivery
})

app.listen(3000)

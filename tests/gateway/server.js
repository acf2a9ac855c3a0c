// The real upstream Wechaty puppet service gateway (wechaty-puppet-service PuppetServer, TLS
// disabled) around the mock puppet, for Stairwell's contract test. Port and token from the
// environment; bound to 127.0.0.1 only.
//
// Control channel (one JSON object per line): commands on stdin, answers and records on stdout.
//   {"cmd":"say","from":ID,"room":ID,"text":"...","mentions":[ID...]}    a contact speaks
//   {"cmd":"join","room":ID,"members":[ID...],"by":ID}                 members added to a room
// stdout: {"ready":true} once listening; {"sent":{conversationId,text,mentionIds}} for every
// MessageSendText the gateway decoded; {"ok":CMD} / {"error":"..."} for each command.
import readline from 'node:readline'
import { PuppetServer } from 'wechaty-puppet-service'
import { PuppetMock, mock } from 'wechaty-puppet-mock'

process.env.WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_SERVER = 'true'
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')
const fixture = JSON.parse(process.env.STAIRWELL_GATEWAY_FIXTURE || '{}')

const mocker = new mock.Mocker()
const puppet = new PuppetMock({ mocker })
const contacts = new Map()
for (const c of fixture.contacts || []) {
  contacts.set(c.id, mocker.createContact({ id: c.id, name: c.name }))
}
const rooms = new Map()
for (const r of fixture.rooms || []) {
  rooms.set(r.id, mocker.createRoom({ id: r.id, topic: r.topic, memberIdList: r.members }))
}

// Record what the gateway decoded from each MessageSendText (the mock puppet drops mentions).
const messageSendText = puppet.messageSendText.bind(puppet)
puppet.messageSendText = async (conversationId, text, mentionIds) => {
  out({ sent: { conversationId, text, mentionIds: mentionIds || [] } })
  return messageSendText(conversationId, text)
}
// Log the bot in whenever a client (re)starts the puppet.
const onStart = puppet.onStart.bind(puppet)
puppet.onStart = async () => {
  await onStart()
  setImmediate(() => { if (!puppet.isLoggedIn) mocker.login(contacts.get(fixture.self)) })
}

const server = new PuppetServer({
  endpoint: `127.0.0.1:${process.env.STAIRWELL_GATEWAY_PORT}`,
  puppet,
  token: process.env.STAIRWELL_GATEWAY_TOKEN,
  tls: { disable: true },
})
await server.start()
out({ ready: true })

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  let cmd = {}
  try {
    cmd = JSON.parse(line)
    if (cmd.cmd === 'say') {
      const mentions = (cmd.mentions || []).map((id) => contacts.get(id))
      contacts.get(cmd.from).say(cmd.text, mentions).to(cmd.room ? rooms.get(cmd.room) : contacts.get(fixture.self))
    } else if (cmd.cmd === 'join') {
      rooms.get(cmd.room).add(...cmd.members.map((id) => contacts.get(id))).by(contacts.get(cmd.by))
    } else {
      throw new Error(`unknown command ${cmd.cmd}`)
    }
    out({ ok: cmd.cmd })
  } catch (e) {
    out({ error: String(e && e.message ? e.message : e), cmd: cmd.cmd })
  }
}).on('close', async () => {
  await server.stop()
  process.exit(0)
})

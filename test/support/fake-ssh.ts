/**
 * A stand-in `ssh` for the forward tests (scripts/lib/tunnels.ts, scripts/deploy.sh): put on PATH, it
 * records its argv and PID, and for each `-L [bind:]port:host:hostport` listens on bind:port and pipes every
 * connection to host:hostport, as ssh's local forward does (here the "remote" host is this machine). What it
 * does is chosen by FAKE_SSH_MODE:
 * - `ok` (default): forwards until SIGTERM/SIGINT;
 * - `fail`: prints what OpenSSH prints when a local forward cannot be bound with ExitOnForwardFailure=yes
 *   (openssh-portable channels.c / ssh.c) and exits 255, listening on nothing;
 * - `hang`: never listens (a login that does not finish), until killed;
 * - `close-on-connect`: listens, and exits 255 at the first connection (the SSH connection dropped right
 *   after the forwards were set up).
 * FAKE_SSH_RECORD: file it appends `{"pid":..,"argv":[..]}` lines to. Every process it starts is stopped by
 * the test that started it (by PID), and it exits on SIGTERM like ssh.
 */
import * as fs from "fs";
import * as path from "path";

const SCRIPT = String.raw`#!/usr/bin/env node
"use strict";
const fs = require("fs");
const net = require("net");
const argv = process.argv.slice(2);
if (process.env.FAKE_SSH_RECORD) fs.appendFileSync(process.env.FAKE_SSH_RECORD, JSON.stringify({ pid: process.pid, argv }) + "\n");
const forwards = [];
for (let i = 0; i < argv.length; i++) {
  if (argv[i] !== "-L") continue;
  const spec = argv[++i];
  const parts = spec.match(/^(?:(\[[^\]]+\]|[^:]+):)?(\d+):(\[[^\]]+\]|[^:]+):(\d+)$/);
  if (!parts) { console.error("Bad local forwarding specification '" + spec + "'"); process.exit(255); }
  const strip = (h) => h.replace(/^\[|\]$/g, "");
  forwards.push({ bind: strip(parts[1] || "localhost"), port: Number(parts[2]), host: strip(parts[3]), hostPort: Number(parts[4]) });
}
const mode = process.env.FAKE_SSH_MODE || "ok";
for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"]) process.on(signal, () => process.exit(255));
if (mode === "fail") {
  const f = forwards[0] || { bind: "127.0.0.1", port: 0 };
  console.error("bind [" + f.bind + "]:" + f.port + ": Address already in use");
  console.error("channel_setup_fwd_listener_tcpip: cannot listen to port: " + f.port);
  console.error("Could not request local forwarding.");
  process.exit(255);
}
if (mode === "hang") {
  setInterval(() => {}, 1000);
} else {
  for (const f of forwards) {
    const server = net.createServer((socket) => {
      if (mode === "close-on-connect") { console.error("Connection to host closed by remote host."); process.exit(255); }
      const upstream = net.connect({ host: f.host, port: f.hostPort });
      upstream.on("error", () => socket.destroy());
      socket.on("error", () => upstream.destroy());
      socket.pipe(upstream).pipe(socket);
    });
    server.on("error", (error) => { console.error("bind [" + f.bind + "]:" + f.port + ": " + error.message); process.exit(255); });
    server.listen(f.port, f.bind);
  }
}
`;

export interface FakeSshCall {
  pid: number;
  argv: string[];
}

/** Write the stand-in `ssh` into `dir` (put it first on PATH); returns its path. */
export function writeFakeSsh(dir: string): string {
  const file = path.join(dir, "ssh");
  fs.writeFileSync(file, SCRIPT, { mode: 0o755 });
  return file;
}

/** The calls recorded in FAKE_SSH_RECORD. */
export function fakeSshCalls(record: string): FakeSshCall[] {
  if (!fs.existsSync(record)) return [];
  return fs
    .readFileSync(record, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as FakeSshCall);
}

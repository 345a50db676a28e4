// sd_notify(3) for `Type=notify` units (deploy/systemd/): READY=1 once the node is up, STOPPING=1
// when it stops, WATCHDOG=1 every half WATCHDOG_USEC when the unit sets WatchdogSec=. The
// protocol is one AF_UNIX datagram of "KEY=VALUE\n" lines to $NOTIFY_SOCKET (a path, or "@name"
// for an abstract socket). Node has no AF_UNIX datagram socket, and the npm `sd-notify` package
// is a node-gyp addon linking libsystemd (a C toolchain and libsystemd-dev at install time), so
// the datagram goes out through our own napi addon (crates/eg-native: unixDgramOpen/unixSendTo),
// which the TAP interface needs anyway. The sender must be the main process (NotifyAccess=main):
// systemd checks the datagram's credentials, which is why no helper process (systemd-notify) is used.
import { native } from '../native/index.js';
import { everySec, type Timer } from '../timer.js';

export interface Notifier {
  /** Whether $NOTIFY_SOCKET was set (false: every call is a no-op). */
  readonly active: boolean;
  /** READY=1 plus a STATUS= line; starts the watchdog pings if the unit asked for them. */
  ready(status: string): void;
  /** STOPPING=1; stops the watchdog pings. */
  stopping(): void;
}

/** `$NOTIFY_SOCKET` as the raw sun_path bytes the addon takes ("@x" → NUL + "x"). */
export function notifyAddress(v: string): Buffer {
  if (!v.startsWith('@') && !v.startsWith('/')) throw new Error(`NOTIFY_SOCKET ${JSON.stringify(v)} is neither an absolute path nor an @abstract name`);
  return v.startsWith('@') ? Buffer.concat([Buffer.from([0]), Buffer.from(v.slice(1), 'utf8')]) : Buffer.from(v, 'utf8');
}

/**
 * The watchdog interval in seconds (half of WATCHDOG_USEC, as sd_watchdog_enabled(3) advises),
 * or 0 when none applies: WATCHDOG_USEC unset or not a positive integer, or WATCHDOG_PID set
 * to another process.
 */
export function watchdogIntervalS(env: NodeJS.ProcessEnv, pid = process.pid): number {
  const usec = env.WATCHDOG_USEC;
  if (!usec || !/^[0-9]+$/.test(usec) || Number(usec) === 0) return 0;
  if (env.WATCHDOG_PID && env.WATCHDOG_PID !== String(pid)) return 0;
  return Number(usec) / 2e6;
}

/**
 * A notifier for this process from its environment. Errors (no addon, socket gone) go to
 * `onError` and never stop the node: outside systemd nothing is listening anyway.
 */
export function systemdNotifier(onError: (msg: string) => void, env: NodeJS.ProcessEnv = process.env): Notifier {
  const path = env.NOTIFY_SOCKET;
  if (!path) return { active: false, ready() {}, stopping() {} };
  let fd = -1;
  let addr: Buffer | undefined;
  let watchdog: Timer | undefined;
  const send = (text: string): void => {
    try {
      const n = native();
      addr ??= notifyAddress(path);
      if (fd < 0) fd = n.unixDgramOpen();
      const err = n.unixSendTo(fd, Buffer.from(text, 'utf8'), addr);
      if (err !== 0) onError(`sd_notify: sending to NOTIFY_SOCKET ${path} failed (errno ${err})`);
    } catch (e) {
      onError(`sd_notify: ${(e as Error).message}`);
    }
  };
  return {
    active: true,
    ready(status: string) {
      // STATUS= is one line: systemctl status shows it.
      send(`READY=1\nSTATUS=${status.replace(/\n/g, ' ')}\nMAINPID=${process.pid}\n`);
      const every = watchdogIntervalS(env);
      if (every > 0 && !watchdog) {
        send('WATCHDOG=1\n');
        // The ping runs on the event loop: if the loop hangs, the pings stop and systemd restarts us.
        watchdog = everySec(every, () => send('WATCHDOG=1\n'));
      }
    },
    stopping() {
      watchdog?.cancel();
      watchdog = undefined;
      send('STOPPING=1\n');
    },
  };
}

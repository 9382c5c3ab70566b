//! An SSH link as the console sees it, with the two ways it fails: a pty whose master is
//! **closed** (the link dropped: the kernel hangs the terminal up, reads and writes fail with
//! EIO) and a pty whose master is **not read** (the link stalled: the console's writes block
//! once the pty's buffer is full). The portable-pty harness cannot do either (its reader holds
//! a copy of the master), so this one owns the master fd itself.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::pty::{Winsize, openpty};

pub struct Link {
    master: Option<Arc<OwnedFd>>,
    child: Child,
    parser: Arc<Mutex<vt100::Parser>>,
    reading: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    reader: Option<JoinHandle<()>>,
    size: (u16, u16),
}

fn winsize(cols: u16, rows: u16) -> Winsize {
    Winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    }
}

impl Link {
    /// Runs `program ARGS` as the session leader of a new pty of `cols`×`rows` (its
    /// controlling terminal, as sshd gives one), in `dir`, with `env` added; HOME and the XDG
    /// dirs point into `dir`.
    pub fn spawn(
        program: &str,
        args: &[&str],
        cols: u16,
        rows: u16,
        dir: &Path,
        env: &[(&str, &str)],
    ) -> Link {
        let pty = openpty(Some(&winsize(cols, rows)), None).expect("open a pty");
        // openpty(3) leaves both ends inheritable: a child holding the master would keep the
        // link up after the test closed it.
        for fd in [&pty.master, &pty.slave] {
            nix::fcntl::fcntl(
                fd,
                nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
            )
            .expect("close-on-exec");
        }
        let slave = pty.slave;
        let io = |fd: &OwnedFd| Stdio::from(fd.try_clone().expect("dup the pty"));
        let mut cmd = Command::new(program);
        cmd.args(args)
            .current_dir(dir)
            .env("TERM", "xterm-256color")
            .env("LANG", "C.UTF-8")
            .env_remove("LC_ALL")
            .env_remove("LC_CTYPE")
            .env("HOME", dir)
            .env("XDG_CONFIG_HOME", dir.join("xdg-config"))
            .env("XDG_STATE_HOME", dir.join("xdg-state"))
            .env("XDG_DATA_HOME", dir.join("xdg-data"))
            .env_remove("NO_COLOR")
            .env_remove("WARROOM_CONFIG")
            .stdin(io(&slave))
            .stdout(io(&slave))
            .stderr(io(&slave));
        for (k, v) in env {
            cmd.env(k, v);
        }
        // SAFETY: between fork and exec only async-signal-safe calls: setsid(2) and ioctl(2).
        unsafe {
            cmd.pre_exec(|| {
                nix::unistd::setsid().map_err(std::io::Error::from)?;
                if nix::libc::ioctl(0, nix::libc::TIOCSCTTY, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("spawn the program");
        drop(slave);
        let master = Arc::new(pty.master);
        let size = |n: u16| std::num::NonZeroU16::new(n).expect("a terminal is at least 1×1");
        let parser = Arc::new(Mutex::new(vt100::Parser::new(size(rows), size(cols), 0)));
        let reading = Arc::new(AtomicBool::new(true));
        let stop = Arc::new(AtomicBool::new(false));
        let reader = {
            let (master, parser, reading, stop) = (
                master.clone(),
                parser.clone(),
                reading.clone(),
                stop.clone(),
            );
            thread::spawn(move || {
                let mut buf = [0u8; 8192];
                while !stop.load(Ordering::SeqCst) {
                    if !reading.load(Ordering::SeqCst) {
                        thread::sleep(Duration::from_millis(20));
                        continue;
                    }
                    let mut fds = [PollFd::new(master.as_fd(), PollFlags::POLLIN)];
                    match poll(&mut fds, PollTimeout::from(50u16)) {
                        Ok(n) if n > 0 => {}
                        Ok(_) => continue,
                        Err(nix::errno::Errno::EINTR) => continue,
                        Err(_) => break,
                    }
                    match nix::unistd::read(master.as_fd(), &mut buf) {
                        Ok(0) => break,
                        Ok(n) => {
                            if let Ok(mut p) = parser.lock() {
                                p.process(&buf[..n]);
                            }
                        }
                        Err(nix::errno::Errno::EINTR) => continue,
                        // EIO: the program closed its end.
                        Err(_) => thread::sleep(Duration::from_millis(20)),
                    }
                }
            })
        };
        Link {
            master: Some(master),
            child,
            parser,
            reading,
            stop,
            reader: Some(reader),
            size: (cols, rows),
        }
    }

    /// Runs `warroom ARGS`.
    pub fn warroom(args: &[&str], cols: u16, rows: u16, dir: &Path, env: &[(&str, &str)]) -> Link {
        Link::spawn(env!("CARGO_BIN_EXE_warroom"), args, cols, rows, dir, env)
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn signal(&self, signal: nix::sys::signal::Signal) {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid()), signal)
            .expect("send signal");
    }

    /// Types into the terminal (while the link is up).
    pub fn send(&self, input: &[u8]) {
        let master = self.master.as_ref().expect("the link is up");
        let mut rest = input;
        while !rest.is_empty() {
            match nix::unistd::write(master.as_fd(), rest) {
                Ok(n) => rest = &rest[n..],
                Err(nix::errno::Errno::EINTR) => {}
                Err(e) => panic!("write to the pty: {e}"),
            }
        }
    }

    pub fn screen(&self) -> String {
        self.parser
            .lock()
            .map(|p| p.screen().contents())
            .unwrap_or_default()
    }

    /// Waits until the screen shows every needle at once.
    pub fn wait_for_all(&self, needles: &[&str], timeout: Duration) -> Result<String, String> {
        super::pty::wait_for_screen(|| self.screen(), needles, timeout)
    }

    pub fn wait_for(&self, needle: &str, timeout: Duration) -> Result<String, String> {
        self.wait_for_all(&[needle], timeout)
    }

    /// The link stalls: nobody reads the master any more (the program's writes block once the
    /// pty's buffer is full).
    pub fn stall(&self) {
        self.reading.store(false, Ordering::SeqCst);
    }

    /// Changes the terminal's size (the program gets SIGWINCH and draws a whole new frame).
    pub fn resize(&mut self, cols: u16, rows: u16) {
        if let Some(master) = &self.master {
            // SAFETY: TIOCSWINSZ reads one Winsize from the pointer, which outlives the call.
            let ws = winsize(cols, rows);
            unsafe {
                nix::libc::ioctl(master.as_raw_fd(), nix::libc::TIOCSWINSZ, &ws);
            }
        }
        // The screen read back is the new size too.
        if let (Some(r), Some(c), Ok(mut p)) = (
            std::num::NonZeroU16::new(rows),
            std::num::NonZeroU16::new(cols),
            self.parser.lock(),
        ) {
            p.set_size(r, c);
        }
        self.size = (cols, rows);
    }

    /// The link drops: the master is closed for good (every copy of it), as when the ssh
    /// client dies. The kernel hangs the terminal up.
    pub fn drop_link(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        let master = self.master.take().expect("the link is up");
        assert_eq!(
            Arc::strong_count(&master),
            1,
            "nothing else holds the master"
        );
        drop(master);
    }

    /// The exit status, once the program has ended (`None` if it did not within `timeout`).
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.stop.store(true, Ordering::SeqCst);
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

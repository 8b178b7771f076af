package localstack

import (
	"bytes"
	"io"
	"os/exec"
	"runtime"
	"sync"
	"time"
)

// proc is a child server process in its own process group.
type proc struct {
	name  string
	cmd   *exec.Cmd
	stdin io.Closer
	tail  *tailBuffer
	done  chan struct{} // closed when the process has exited
}

// startProc starts a server. The child gets a pipe as stdin (sqs-server.js exits when it
// closes) and, on Linux, a parent-death signal, so a crashed test binary leaves nothing behind.
// The parent-death signal fires when the *thread* that forked the child exits, so the goroutine
// that starts the child keeps its thread locked until the child is gone.
func startProc(name string, log io.Writer, bin string, args ...string) (*proc, error) {
	p := &proc{name: name, tail: &tailBuffer{max: 4096}, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		cmd := exec.Command(bin, args...)
		cmd.SysProcAttr = sysProcAttr()
		var out io.Writer = p.tail
		if log != nil {
			out = io.MultiWriter(p.tail, log)
		}
		cmd.Stdout, cmd.Stderr = out, out
		cmd.WaitDelay = 2 * time.Second
		stdin, err := cmd.StdinPipe()
		if err != nil {
			started <- err
			return
		}
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		p.cmd, p.stdin = cmd, stdin
		started <- nil
		_ = cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return p, nil
}

// stop asks the process group to terminate, then kills it if it has not exited in time.
func (p *proc) stop() {
	if p == nil || p.cmd == nil {
		return
	}
	p.stdin.Close()
	signalGroup(p.cmd, false)
	select {
	case <-p.done:
		return
	case <-time.After(3 * time.Second):
	}
	signalGroup(p.cmd, true)
	<-p.done
}

func (p *proc) output() string { return p.tail.String() }

// tailBuffer keeps the last max bytes written to it, for error messages.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tailBuffer) Write(data []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, data...)
	if len(b.buf) > b.max {
		b.buf = b.buf[len(b.buf)-b.max:]
	}
	return len(data), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(bytes.TrimSpace(b.buf))
}

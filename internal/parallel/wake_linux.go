//go:build linux

package parallel

import (
	"sync/atomic"
	"syscall"
	"unsafe"
)

// On Linux a parked helper sleeps in the futex system call on the
// waker's word, not in the Go scheduler. Waking a goroutine parked on a
// channel makes it runnable in the waker's own P, and another P's thread
// must first wake and then steal it. A goroutine blocked in a system call
// keeps its own thread, and the futex wake-up returns it to an idle P
// directly. Measured on a 2-vCPU virtual machine (AMD EPYC, Zen 4,
// 2026-12-07), after a 50 ms pause, Open to the helper's first part of a
// job: parked on a channel, 1.7 ms median (7 of 40 tries over 4 ms);
// in the futex, out of the call 85 us median and at its first part
// 120-580 us median over three runs (none over 5.2 ms); a C thread on a
// pthread condition variable, 22 us. A compiled network's batch of 64
// after a 50 ms pause (pruned ResNet-20 Conv-70, medians of 21): int8
// 8.8 ms with the channel, 5.3-5.4 with the futex, 4.4-4.7 back to back;
// fp32 10.2-10.9, 9.5 and 8.1-8.4 ms. Split ResNet-56 images back to back
// (bench/b1 -block 3): 1.02x the unsplit speed with the channel, 1.68x
// with the futex.
//
// The cost: a goroutine in a system call holds its P until the runtime's
// monitor takes it back (after 20 us to 20 ms, by how busy the program
// has been), as for any goroutine blocked in a read; a goroutine made
// runnable in that window, with every other P busy, waits for it.

const (
	futexWaitPrivate = 128 // FUTEX_WAIT | FUTEX_PRIVATE_FLAG
	futexWakePrivate = 129 // FUTEX_WAKE | FUTEX_PRIVATE_FLAG
)

// waker parks helpers until the next wake: a sequence number that each
// wake advances.
type waker struct {
	seq atomic.Uint32
}

// newWaker returns a waker for n helpers.
func newWaker(int) *waker { return new(waker) }

// ticket returns the sequence number to pass to wait: taken before the
// last check of the condition that the helper parks on, so that a wake
// after that check is not lost.
func (w *waker) ticket() uint32 { return w.seq.Load() }

// wait blocks until a wake after ticket t (at once if there was one; it
// may also return early, and its caller checks again).
func (w *waker) wait(t uint32) {
	for w.seq.Load() == t {
		// Returns at once (EAGAIN) if seq moved on since the check.
		syscall.Syscall6(syscall.SYS_FUTEX, uintptr(unsafe.Pointer(&w.seq)), futexWaitPrivate, uintptr(t), 0, 0, 0)
	}
}

// wake wakes every waiting helper and reports whether the caller should
// yield its P for them to start (false: they wake on their own threads).
func (w *waker) wake() bool {
	w.seq.Add(1)
	syscall.RawSyscall6(syscall.SYS_FUTEX, uintptr(unsafe.Pointer(&w.seq)), futexWakePrivate, 1<<30, 0, 0, 0)
	return false
}

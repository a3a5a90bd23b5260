//! The little the async exports need from a runtime, on whatever executor the host polls them
//! with (Kotlin coroutines, Swift concurrency, Python's asyncio): work moved off the caller's
//! thread, a deadline, and a lock that an `await` may hold. The mobile library carries no async
//! runtime of its own (BENCHMARKS.md, "On the phone").

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use super::error::WalletError;

/// A result one side writes and the other awaits.
struct Slot<T> {
    value: Option<T>,
    /// The writer is gone (it finished, or panicked before writing).
    closed: bool,
    waker: Option<Waker>,
}

/// Runs `work` on a new thread named `name` and resolves to its result, so a slow blocking
/// step (opening the store, a wipe) never holds the host's executor thread.
pub(super) fn off_thread<T, F>(
    name: &str,
    work: F,
) -> impl Future<Output = Result<T, WalletError>> + Send + 'static
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let slot = Arc::new(Mutex::new(Slot {
        value: None,
        closed: false,
        waker: None,
    }));
    let writer = Writer(slot.clone());
    let spawned = std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            let value = work();
            writer.put(value);
        });
    OffThread {
        slot,
        spawned: spawned.map(|_| ()).map_err(|e| e.to_string()),
    }
}

/// The thread's end of a [`Slot`]: closes it when dropped, even by a panic, so the awaiting
/// side never waits for a result that cannot come.
struct Writer<T>(Arc<Mutex<Slot<T>>>);

impl<T> Writer<T> {
    fn put(&self, value: T) {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        slot.value = Some(value);
    }
}

impl<T> Drop for Writer<T> {
    fn drop(&mut self) {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        slot.closed = true;
        if let Some(waker) = slot.waker.take() {
            waker.wake();
        }
    }
}

struct OffThread<T> {
    slot: Arc<Mutex<Slot<T>>>,
    spawned: Result<(), String>,
}

impl<T> Future for OffThread<T> {
    type Output = Result<T, WalletError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Err(e) = &self.spawned {
            return Poll::Ready(Err(WalletError::Internal {
                reason: format!("could not start a background thread: {e}"),
            }));
        }
        let mut slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(value) = slot.value.take() {
            return Poll::Ready(Ok(value));
        }
        if slot.closed {
            return Poll::Ready(Err(WalletError::Internal {
                reason: "background task failed".into(),
            }));
        }
        slot.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// A deadline: `Ready` once `after` has passed. A timer thread waits for it and wakes the
/// task; dropping the future releases that thread at once.
struct Deadline {
    after: Duration,
    timer: Option<Arc<TimerState>>,
}

struct TimerState {
    shared: Mutex<Timer>,
    changed: Condvar,
}

struct Timer {
    fired: bool,
    cancelled: bool,
    waker: Option<Waker>,
}

impl Future for Deadline {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if let Some(state) = &self.timer {
            let mut timer = state.shared.lock().unwrap_or_else(PoisonError::into_inner);
            if timer.fired {
                return Poll::Ready(());
            }
            timer.waker = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let state = Arc::new(TimerState {
            shared: Mutex::new(Timer {
                fired: false,
                cancelled: false,
                waker: Some(cx.waker().clone()),
            }),
            changed: Condvar::new(),
        });
        let until = Instant::now() + self.after;
        let waiting = state.clone();
        let spawned = std::thread::Builder::new()
            .name("jigap-deadline".into())
            .spawn(move || wait_until(&waiting, until));
        if spawned.is_err() {
            // Without a timer thread the deadline cannot be kept: it has passed.
            return Poll::Ready(());
        }
        self.timer = Some(state);
        Poll::Pending
    }
}

fn wait_until(state: &TimerState, until: Instant) {
    let mut timer = state.shared.lock().unwrap_or_else(PoisonError::into_inner);
    loop {
        if timer.cancelled {
            return;
        }
        let now = Instant::now();
        if now >= until {
            timer.fired = true;
            if let Some(waker) = timer.waker.take() {
                waker.wake();
            }
            return;
        }
        timer = state
            .changed
            .wait_timeout(timer, until - now)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        if let Some(state) = &self.timer {
            state
                .shared
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .cancelled = true;
            state.changed.notify_all();
        }
    }
}

/// `work`, or `Err(())` if it has not finished within `limit`.
pub(super) async fn within<F: Future>(limit: Duration, work: F) -> Result<F::Output, ()> {
    Race {
        work: Box::pin(work),
        deadline: Deadline {
            after: limit,
            timer: None,
        },
    }
    .await
}

struct Race<F: Future> {
    work: Pin<Box<F>>,
    deadline: Deadline,
}

impl<F: Future> Future for Race<F> {
    type Output = Result<F::Output, ()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Poll::Ready(output) = self.work.as_mut().poll(cx) {
            return Poll::Ready(Ok(output));
        }
        match Pin::new(&mut self.deadline).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(())),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// A lock whose guard may be held across `await`s, for state one async step at a time may
/// change (an issuance between its HTTP round trips). Waiters are served in arrival order; a
/// cancelled step gives the state back as it left it.
pub(super) struct AsyncLock<T> {
    shared: Mutex<LockState<T>>,
}

struct LockState<T> {
    /// The state, when nobody holds it.
    value: Option<T>,
    waiters: std::collections::VecDeque<(u64, Waker)>,
    next_ticket: u64,
}

impl<T> AsyncLock<T> {
    /// A lock around `value`.
    pub(super) fn new(value: T) -> Self {
        Self {
            shared: Mutex::new(LockState {
                value: Some(value),
                waiters: std::collections::VecDeque::new(),
                next_ticket: 0,
            }),
        }
    }

    /// Waits for the state, and holds it until the guard is dropped.
    pub(super) fn lock(&self) -> Locking<'_, T> {
        Locking {
            lock: self,
            ticket: None,
        }
    }
}

/// The future of [`AsyncLock::lock`].
pub(super) struct Locking<'a, T> {
    lock: &'a AsyncLock<T>,
    ticket: Option<u64>,
}

impl<'a, T> Future for Locking<'a, T> {
    type Output = Held<'a, T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Held<'a, T>> {
        let lock = self.lock;
        let mut state = lock.shared.lock().unwrap_or_else(PoisonError::into_inner);
        let first = state.waiters.front().map(|(t, _)| *t);
        let my_turn = match self.ticket {
            None => first.is_none(),
            Some(ticket) => first == Some(ticket),
        };
        if my_turn {
            if let Some(value) = state.value.take() {
                if self.ticket.take().is_some() {
                    state.waiters.pop_front();
                }
                return Poll::Ready(Held {
                    lock,
                    value: Some(value),
                });
            }
        }
        match self.ticket {
            Some(ticket) => {
                if let Some(entry) = state.waiters.iter_mut().find(|(t, _)| *t == ticket) {
                    entry.1 = cx.waker().clone();
                }
            }
            None => {
                let ticket = state.next_ticket;
                state.next_ticket += 1;
                state.waiters.push_back((ticket, cx.waker().clone()));
                self.ticket = Some(ticket);
            }
        }
        Poll::Pending
    }
}

impl<T> Drop for Locking<'_, T> {
    fn drop(&mut self) {
        // A waiter that gives up leaves the queue, and passes its turn on.
        if let Some(ticket) = self.ticket {
            let mut state = self
                .lock
                .shared
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            state.waiters.retain(|(t, _)| *t != ticket);
            if state.value.is_some() {
                if let Some((_, waker)) = state.waiters.front() {
                    waker.wake_by_ref();
                }
            }
        }
    }
}

/// The state of an [`AsyncLock`], held.
pub(super) struct Held<'a, T> {
    lock: &'a AsyncLock<T>,
    value: Option<T>,
}

impl<T> std::ops::Deref for Held<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        match &self.value {
            Some(value) => value,
            None => unreachable!("a held lock has its value until dropped"),
        }
    }
}

impl<T> std::ops::DerefMut for Held<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        match &mut self.value {
            Some(value) => value,
            None => unreachable!("a held lock has its value until dropped"),
        }
    }
}

impl<T> Drop for Held<'_, T> {
    fn drop(&mut self) {
        let mut state = self
            .lock
            .shared
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        state.value = self.value.take();
        if let Some((_, waker)) = state.waiters.front() {
            waker.wake_by_ref();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn block_on<F: Future>(future: F) -> F::Output {
        struct ThreadWaker(std::thread::Thread);
        impl std::task::Wake for ThreadWaker {
            fn wake(self: Arc<Self>) {
                self.0.unpark();
            }
        }
        let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        let mut future = Box::pin(future);
        loop {
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return output;
            }
            std::thread::park();
        }
    }

    #[test]
    fn work_off_the_thread_comes_back_and_a_panic_is_an_error() {
        let here = std::thread::current().id();
        let there = block_on(off_thread("t", || std::thread::current().id())).unwrap();
        assert_ne!(here, there);
        let failed = block_on(off_thread("t", || -> u8 { panic!("on purpose") }));
        assert!(matches!(failed, Err(WalletError::Internal { .. })));
    }

    #[test]
    fn a_deadline_ends_work_that_never_finishes_but_not_work_that_does() {
        let started = Instant::now();
        let never = block_on(within(
            Duration::from_millis(50),
            std::future::pending::<()>(),
        ));
        assert_eq!(never, Err(()));
        assert!(started.elapsed() >= Duration::from_millis(50));
        assert_eq!(
            block_on(within(Duration::from_secs(60), async { 7 })),
            Ok(7)
        );
        let slow = off_thread("t", || {
            std::thread::sleep(Duration::from_millis(20));
            5
        });
        assert_eq!(
            block_on(within(Duration::from_secs(60), slow)).map(|r| r.ok()),
            Ok(Some(5))
        );
    }

    #[test]
    fn the_lock_serialises_steps_that_await_while_holding_it() {
        let lock = Arc::new(AsyncLock::new(Vec::<usize>::new()));
        let inside = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let lock = lock.clone();
                let inside = inside.clone();
                std::thread::spawn(move || {
                    block_on(async {
                        let mut held = lock.lock().await;
                        assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0);
                        // An await while holding: another thread's step.
                        off_thread("t", || std::thread::sleep(Duration::from_millis(5)))
                            .await
                            .unwrap();
                        held.push(i);
                        inside.fetch_sub(1, Ordering::SeqCst);
                    })
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let mut seen = block_on(lock.lock()).clone();
        seen.sort_unstable();
        assert_eq!(seen, (0..8).collect::<Vec<_>>());
    }

    #[test]
    fn a_waiter_that_gives_up_passes_its_turn_on() {
        let lock = AsyncLock::new(1u8);
        let held = block_on(lock.lock());
        let waker = Waker::from(Arc::new(Noop));
        let mut cx = Context::from_waker(&waker);
        let mut first = Box::pin(lock.lock());
        let mut second = Box::pin(lock.lock());
        assert!(first.as_mut().poll(&mut cx).is_pending());
        assert!(second.as_mut().poll(&mut cx).is_pending());
        drop(first);
        drop(held);
        assert!(matches!(second.as_mut().poll(&mut cx), Poll::Ready(v) if *v == 1));
    }

    struct Noop;
    impl std::task::Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }
}

use spindle::channel;
use spindle::coroutine::Coroutine;
use spindle::{spawn, yield_now, Runtime};

fn main() {
    let what = std::env::args().nth(1).unwrap();
    let n: usize = std::env::args().nth(2).unwrap().parse().unwrap();
    let rt = Runtime::cooperative().workers(1).build().unwrap();
    match what.as_str() {
        "switch" => {
            let mut co = Coroutine::<(), (), ()>::new(|y, ()| loop {
                y.suspend(());
            });
            for _ in 0..n {
                co.resume(());
            }
        }
        "yield" => rt.block_on(move || {
            let h = spawn(move || {
                for _ in 0..n {
                    yield_now();
                }
            });
            for _ in 0..n {
                yield_now();
            }
            h.join().unwrap();
        }),
        "spawn_join" => rt.block_on(move || {
            for _ in 0..n / 1000 {
                let hs: Vec<_> = (0..1000).map(|i| spawn(move || i)).collect();
                for h in hs {
                    std::hint::black_box(h.join().unwrap());
                }
            }
        }),
        "pingpong" => rt.block_on(move || {
            let (to_b, from_a) = channel::bounded::<usize>(1);
            let (to_a, from_b) = channel::bounded::<usize>(1);
            let b = spawn(move || {
                for _ in 0..n {
                    let v = from_a.recv().unwrap();
                    to_a.send(v).unwrap();
                }
            });
            for i in 0..n {
                to_b.send(i).unwrap();
                from_b.recv().unwrap();
            }
            b.join().unwrap();
        }),
        _ => panic!(),
    }
}

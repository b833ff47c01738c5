//! Prints the prefilter's needles, one per line: the same search for `grep -F -f` in
//! `scripts/bench/hunt`.

fn main() {
    for n in quell_hunt::Prefilter::needles() {
        println!("{n}");
    }
}

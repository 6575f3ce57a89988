//! The HTML report in a real browser: headless Chromium loads a report of a
//! fixed set of results with no console message (a script error, a blocked
//! request), and its screenshot shows the page's background and the first
//! timeline bar where the page says it is, in its colour.

use std::fs::File;
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use outage::matrix::{self, Matrix};

use crate::support::skip;

const CHROMIUM: &str = "/usr/bin/chromium";
/// How long Chromium may take to load the page and take its screenshot.
const WITHIN: Duration = Duration::from_secs(60);
const WIDTH: u32 = 1000;
const HEIGHT: u32 = 2000;
/// The page's background, `#fafaf7`.
const BACKGROUND: [u8; 3] = [0xfa, 0xfa, 0xf7];
/// Where an SVG's drawing starts: the body's 16px padding and the SVG's 1px border.
const SVG_LEFT: f64 = 17.0;

#[test]
fn the_html_report_loads_in_chromium_cleanly_and_draws_the_first_attempt_bar_in_place() {
    if !Path::new(CHROMIUM).exists() {
        return skip("browser test: no /usr/bin/chromium; `make browser-test` installs it");
    }
    let dir = tempfile::tempdir().expect("a temporary folder");
    let results =
        matrix::read_results(Path::new("fixtures/matrix/results.json")).expect("the fixture reads");
    let page = matrix::html(&Matrix::of_runs(&[results]), dir.path());
    let report = dir.path().join("report.html");
    std::fs::write(&report, &page).expect("the report is written");
    let shot = dir.path().join("shot.png");
    let log = screenshot(&report, &shot, dir.path());
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(
        console.is_empty(),
        "the page logged to the console:\n{}",
        console.join("\n")
    );

    let image = Image::read(&shot);
    assert_eq!((image.width, image.height), (WIDTH, HEIGHT));
    assert!(
        near(image.at(0, 0), BACKGROUND),
        "corner: {:?}",
        image.at(0, 0)
    );
    assert!(near(image.at(WIDTH - 1, HEIGHT - 1), BACKGROUND));
    let bar = first_bar(&page);
    let found = image.find_bar(&bar);
    assert!(
        found,
        "no {:?} bar at x = {:.1} + {SVG_LEFT}",
        bar.colour, bar.x
    );
}

/// Loads `page` in headless Chromium and writes a screenshot to `shot`;
/// returns Chromium's log. Chromium and everything it started are killed
/// if it is not done within [`WITHIN`], and once it is.
fn screenshot(page: &Path, shot: &Path, dir: &Path) -> String {
    let log_path = dir.join("chromium.log");
    let log = File::create(&log_path).expect("the log file");
    let mut chromium = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--force-device-scale-factor=1",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("--window-size={WIDTH},{HEIGHT}"))
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("the log file"))
        .stderr(log)
        .process_group(0)
        .spawn()
        .expect("chromium starts");
    let finished = wait(&mut chromium, WITHIN);
    // Its helpers share its process group; none may outlive the test.
    let _ = killpg(Pid::from_raw(chromium.id() as i32), Signal::SIGKILL);
    let _ = chromium.wait();
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    assert!(
        finished,
        "chromium did not finish within {WITHIN:?}; it was killed\n{log}"
    );
    assert!(shot.exists(), "chromium wrote no screenshot\n{log}");
    log
}

/// Waits for `child` to exit, up to `within`; false when it has not.
fn wait(child: &mut Child, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// The first attempt's bar as the page draws it.
#[derive(Debug)]
struct Bar {
    x: f64,
    width: f64,
    colour: [u8; 3],
}

/// The first `<rect class="bar" ...>` of `page`.
fn first_bar(page: &str) -> Bar {
    let at = page
        .find("<rect class=\"bar\"")
        .expect("the page draws a bar");
    let tag = &page[at..at + page[at..].find('>').expect("the tag ends")];
    let attribute = |name: &str| {
        let start = tag.find(&format!(" {name}=\"")).expect(name) + name.len() + 3;
        tag[start..start + tag[start..].find('"').expect("quoted")].to_owned()
    };
    let fill = attribute("fill");
    let channel = |i: usize| u8::from_str_radix(&fill[1 + 2 * i..3 + 2 * i], 16).expect("hex");
    Bar {
        x: attribute("x").parse().expect("a number"),
        width: attribute("width").parse().expect("a number"),
        colour: [channel(0), channel(1), channel(2)],
    }
}

/// A decoded screenshot, RGB or RGBA.
struct Image {
    width: u32,
    height: u32,
    channels: usize,
    pixels: Vec<u8>,
}

impl Image {
    fn read(path: &Path) -> Image {
        let decoder =
            png::Decoder::new(std::io::BufReader::new(File::open(path).expect("the PNG")));
        let mut reader = decoder.read_info().expect("a PNG");
        let mut pixels = vec![0; reader.output_buffer_size().expect("a size")];
        let info = reader.next_frame(&mut pixels).expect("a frame");
        assert_eq!(info.bit_depth, png::BitDepth::Eight);
        Image {
            width: info.width,
            height: info.height,
            channels: info.color_type.samples(),
            pixels,
        }
    }

    fn at(&self, x: u32, y: u32) -> [u8; 3] {
        let i = (y as usize * self.width as usize + x as usize) * self.channels;
        [self.pixels[i], self.pixels[i + 1], self.pixels[i + 2]]
    }

    /// True when a block of `bar`'s colour, 14 pixels high and as wide as
    /// the bar, starts at the bar's x (within a pixel) somewhere down the page.
    fn find_bar(&self, bar: &Bar) -> bool {
        let left = (SVG_LEFT + bar.x).round() as u32;
        let wide = bar.width.round() as u32;
        (left.saturating_sub(1)..=left + 1).any(|x| {
            (0..self.height.saturating_sub(14)).any(|y| {
                (0..14).all(|dy| near(self.at(x, y + dy), bar.colour))
                    && (0..wide.saturating_sub(1)).all(|dx| near(self.at(x + dx, y), bar.colour))
                    && !near(self.at(x + wide + 1, y), bar.colour)
            })
        })
    }
}

/// True when two colours differ by at most 3 in every channel.
fn near(a: [u8; 3], b: [u8; 3]) -> bool {
    a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= 3)
}

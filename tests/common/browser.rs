//! A real browser for the page tests: Debian's headless Chromium driven over the DevTools protocol
//! (headless_chrome). When Chromium is missing, the test fails and says how to install it; it never
//! passes without a browser.

use std::path::{Path, PathBuf};
use std::time::Duration;

use headless_chrome::protocol::cdp::{Emulation, Page};
use headless_chrome::{Browser, LaunchOptions, Tab};

/// `BATON_CHROMIUM`, else `chromium` on the PATH (what `scripts/install-chromium` installs).
pub fn chromium() -> PathBuf {
    if let Some(path) = std::env::var_os("BATON_CHROMIUM") {
        return PathBuf::from(path);
    }
    let found = std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|p| p.join("chromium")).find(|p| p.is_file()));
    found.unwrap_or_else(|| {
        panic!(
            "Chromium is not installed: no `chromium` on the PATH. Run `bash scripts/install-chromium` \
             (Debian's chromium package), or point BATON_CHROMIUM at a Chromium or Chrome binary."
        )
    })
}

/// A headless Chromium whose window (and so viewport) is `width` x `height` CSS pixels, at a device
/// pixel ratio of 1, so screenshots are exactly that size.
pub fn launch(width: u32, height: u32) -> Browser {
    let options = LaunchOptions::default_builder()
        .path(Some(chromium()))
        .headless(true)
        // The tests run as root in a container, where Chromium's sandbox cannot start.
        .sandbox(false)
        .window_size(Some((width, height)))
        .args(vec![
            std::ffi::OsStr::new("--force-device-scale-factor=1"),
            std::ffi::OsStr::new("--hide-scrollbars"),
            std::ffi::OsStr::new("--no-proxy-server"),
        ])
        .idle_browser_timeout(Duration::from_secs(120))
        .build()
        .expect("launch options");
    Browser::new(options).unwrap_or_else(|e| panic!("Chromium ({}) did not start: {e:#}", chromium().display()))
}

/// A new tab at `url`, loaded, with a viewport of `width` x `height` CSS pixels at a device pixel
/// ratio of 1 (a phone's when narrower than 600: its meta viewport is honoured). Chromium keeps
/// headless windows at least 500 wide, so the viewport is set through DevTools, not the window.
pub fn open(browser: &Browser, url: &str, (width, height): (u32, u32)) -> std::sync::Arc<Tab> {
    let tab = browser.new_tab().expect("a tab");
    tab.set_default_timeout(Duration::from_secs(30));
    tab.call_method(Emulation::SetDeviceMetricsOverride {
        width,
        height,
        device_scale_factor: 1.0,
        mobile: width < 600,
        scale: None,
        screen_width: Some(width),
        screen_height: Some(height),
        position_x: None,
        position_y: None,
        dont_set_visible_size: None,
        screen_orientation: None,
        viewport: None,
        display_feature: None,
        device_posture: None,
    })
    .expect("the viewport");
    tab.navigate_to(url).expect("navigating").wait_until_navigated().expect("the page loads");
    tab
}

/// The value of a JavaScript expression evaluated in the page (through DevTools, which the page's
/// Content-Security-Policy does not govern: the page itself runs no script).
pub fn eval(tab: &Tab, expression: &str) -> serde_json::Value {
    // Objects come back as references unless asked for by value: the JSON text carries them whole.
    let json = tab.evaluate(&format!("JSON.stringify({expression})"), false).expect("evaluating").value;
    match json {
        Some(serde_json::Value::String(text)) => serde_json::from_str(&text).expect("JSON from the page"),
        _ => serde_json::Value::Null,
    }
}

/// The page's text as a person reads it.
pub fn text(tab: &Tab) -> String {
    eval(tab, "document.body.innerText").as_str().unwrap_or_default().to_string()
}

/// Writes a PNG of the viewport to `path`.
pub fn screenshot(tab: &Tab, path: &Path) {
    let png = tab.capture_screenshot(Page::CaptureScreenshotFormatOption::Png, None, None, true).expect("a screenshot");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, png).unwrap();
}

/// Writes a PNG of the whole page, `width` wide, to `path`.
pub fn screenshot_full(tab: &Tab, width: u32, path: &Path) {
    let height = eval(tab, "document.documentElement.scrollHeight").as_f64().expect("a height");
    let shot = tab
        .call_method(Page::CaptureScreenshot {
            format: Some(Page::CaptureScreenshotFormatOption::Png),
            quality: None,
            clip: Some(Page::Viewport { x: 0.0, y: 0.0, width: f64::from(width), height, scale: 1.0 }),
            from_surface: Some(true),
            capture_beyond_viewport: Some(true),
            optimize_for_speed: None,
        })
        .expect("a full-page screenshot");
    use base64::Engine;
    let png = base64::engine::general_purpose::STANDARD.decode(shot.data).unwrap();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, png).unwrap();
}

/// A PNG's width and height, from its header.
pub fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{} is a PNG", path.display());
    let be = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (be(16), be(20))
}

/// Opens `url` (a case page with the acknowledge form), types `name`, picks the snooze whose form
/// value is `snooze` (`day`, `week`, `stop`), submits, and returns the text of the page that comes
/// back. For the end-to-end test through the `/l/{token}` handler.
pub fn submit_ack_form(browser: &Browser, url: &str, name: &str, snooze: &str) -> String {
    let tab = open(browser, url, (390, 844));
    tab.wait_for_element("input[name=name]").expect("the name field").click().expect("focus");
    tab.type_str(name).expect("typing the name");
    tab.wait_for_element(&format!("input[name=snooze][value={snooze}]"))
        .unwrap_or_else(|e| panic!("no snooze choice {snooze}: {e}"))
        .click()
        .expect("choosing the snooze");
    tab.wait_for_element("form button[type=submit]").expect("the button").click().expect("submitting");
    // The result page replaces the form; wait for its heading.
    tab.wait_for_element("h1").expect("a result page");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while eval(&tab, "document.forms.length").as_u64() != Some(0) {
        assert!(std::time::Instant::now() < deadline, "the form was not submitted: {}", text(&tab));
        std::thread::sleep(Duration::from_millis(100));
    }
    text(&tab)
}

//! Saving figures: standalone HTML always; SVG, PNG and PDF through a
//! headless Chromium with the `static-export` feature.

use std::path::Path;

use plotly::Plot;

use crate::output::write_atomic;

/// Write `plot` as a standalone HTML page (plotly.js is loaded from its CDN
/// when the page is opened), atomically.
pub fn save_html(plot: &Plot, path: &Path) -> std::io::Result<()> {
    let html = plot.to_html();
    write_atomic(path, |w| w.write_all(html.as_bytes()))
}

#[cfg(feature = "static-export")]
pub use plotly::plotly_static::ImageFormat;

/// Render `plot` to `path` (the extension is replaced by the format's) with
/// a headless Chromium driven by chromedriver, offline (plotly.js bundled).
///
/// Needs `chromedriver` and Chromium (Debian: `apt install chromium
/// chromium-driver`). The chromedriver is `WEBDRIVER_PATH` if set, else the
/// first `chromedriver` on `PATH`. PNG ignores `scale` in this setup, so
/// prefer SVG for print.
#[cfg(feature = "static-export")]
pub fn save_image(
    plot: &Plot,
    path: &Path,
    format: ImageFormat,
    width: usize,
    height: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    use plotly::export::sync::ExporterSyncExt as _;
    if std::env::var_os("WEBDRIVER_PATH").is_none() {
        // plotly_static only reads this variable; a Debian chromium-driver
        // on PATH is the common case, so find it rather than fail.
        let found = std::env::var_os("PATH")
            .iter()
            .flat_map(std::env::split_paths)
            .map(|d| d.join("chromedriver"))
            .find(|p| p.is_file())
            .ok_or("no chromedriver: install chromium-driver or set WEBDRIVER_PATH")?;
        std::env::set_var("WEBDRIVER_PATH", found);
    }
    let mut exporter = plotly::plotly_static::StaticExporterBuilder::default()
        .offline_mode(true)
        .webdriver_browser_caps(vec![
            "--headless".into(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--no-first-run".into(),
        ])
        .build()?;
    let result = exporter.write_image(plot, path, format, width, height, 1.0);
    exporter.close();
    result
}

//! What a file of a built site is, by its name: its media type and how long
//! browsers may keep it. The preview server answers with these, and publish
//! tells object stores the same, so a page looks alike wherever it is served.

/// The lowercase extension of the last segment of `path` (`""` for none).
fn extension(path: &str) -> String {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default()
}

/// Whether `path` names an HTML page (the preview injects its live script
/// there; publish keeps pages fresh in caches).
pub fn is_html(path: &str) -> bool {
    matches!(extension(path).as_str(), "html" | "htm")
}

/// The `Content-Type` of `path`, with a charset for text: a host that
/// guesses would show French accents garbled.
pub fn content_type(path: &str) -> &'static str {
    match extension(path).as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml; charset=utf-8",
        "xml" => "application/xml; charset=utf-8",
        "json" | "map" => "application/json; charset=utf-8",
        "webmanifest" => "application/manifest+json; charset=utf-8",
        "txt" => "text/plain; charset=utf-8",
        "md" => "text/markdown; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "ics" => "text/calendar; charset=utf-8",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "pdf" => "application/pdf",
        "mp4" | "m4v" => "video/mp4",
        "webm" => "video/webm",
        "ogv" => "video/ogg",
        "mov" => "video/quicktime",
        "mp3" => "audio/mpeg",
        "m4a" => "audio/mp4",
        "ogg" | "oga" | "opus" => "audio/ogg",
        "wav" => "audio/wav",
        "flac" => "audio/flac",
        "vtt" => "text/vtt; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The `Cache-Control` a published file is sent with.
///
/// Pages and what names them (the sitemap, `.xml`, `.json`, `.txt`) change
/// on every edit under the same name, so caches must ask again after five
/// minutes: a trainer who fixes a typo before the workshop sees it online
/// at once. Stylesheets, scripts, fonts and images keep their names for
/// months and change rarely: an hour in the browser and a day at a CDN
/// keeps a room of thirty participants from fetching them thirty times,
/// without pinning a changed stylesheet for long (atelier's file names
/// carry no content hash, so `immutable` would be wrong).
pub fn cache_control(path: &str) -> &'static str {
    match extension(path).as_str() {
        "html" | "htm" | "xml" | "json" | "txt" | "webmanifest" | "" => "public, max-age=300",
        _ => "public, max-age=3600, s-maxage=86400",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_carry_a_charset_for_text() {
        assert_eq!(content_type("a/b.HTML"), "text/html; charset=utf-8");
        assert_eq!(content_type("x.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("x.svg"), "image/svg+xml; charset=utf-8");
        assert_eq!(content_type("x.woff2"), "font/woff2");
        assert_eq!(content_type("x.pdf"), "application/pdf");
        assert_eq!(content_type("media/x.wav"), "audio/wav");
        assert_eq!(content_type("media/x.vtt"), "text/vtt; charset=utf-8");
        assert_eq!(content_type("v1.2/README"), "application/octet-stream");
    }

    #[test]
    fn pages_are_kept_briefly_and_static_files_longer() {
        assert_eq!(cache_control("index.html"), "public, max-age=300");
        assert_eq!(cache_control("sitemap.xml"), "public, max-age=300");
        assert_eq!(
            cache_control("static/atelier.css"),
            "public, max-age=3600, s-maxage=86400"
        );
    }
}

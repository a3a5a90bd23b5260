//! QR codes for device engagement: drawn in the terminal with half-block characters, and
//! written as a 1-bit grayscale PNG with the `png` crate.

use qrcode::{Color, QrCode};

fn modules(text: &str) -> Result<(usize, Vec<bool>), String> {
    let code = QrCode::new(text.as_bytes()).map_err(|e| format!("QR code: {e}"))?;
    let dark = code
        .to_colors()
        .into_iter()
        .map(|c| c == Color::Dark)
        .collect();
    Ok((code.width(), dark))
}

/// The QR code as terminal text (two module rows per line, with a quiet zone).
pub fn terminal(text: &str) -> Result<String, String> {
    let (width, dark) = modules(text)?;
    let quiet = 2usize;
    let size = width + 2 * quiet;
    let at = |x: usize, y: usize| -> bool {
        x >= quiet
            && y >= quiet
            && x - quiet < width
            && y - quiet < width
            && dark[(y - quiet) * width + (x - quiet)]
    };
    let mut out = String::new();
    for y in (0..size).step_by(2) {
        for x in 0..size {
            // Light-on-dark terminals: print light modules, leave dark ones blank.
            out.push(match (!at(x, y), !at(x, y + 1)) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            });
        }
        out.push('\n');
    }
    Ok(out)
}

/// The QR code as a PNG (1-bit grayscale), `scale` pixels per module, with a 4-module quiet
/// zone.
pub fn png(text: &str, scale: usize) -> Result<Vec<u8>, String> {
    let (width, dark) = modules(text)?;
    let quiet = 4;
    let size = (width + 2 * quiet) * scale;
    let row_bytes = size.div_ceil(8);
    let mut pixels = vec![0u8; size * row_bytes];
    for (py, row) in pixels.chunks_mut(row_bytes).enumerate() {
        let my = py / scale;
        for px in 0..size {
            let mx = px / scale;
            let is_dark = mx >= quiet
                && my >= quiet
                && mx - quiet < width
                && my - quiet < width
                && dark
                    .get((my - quiet) * width + (mx - quiet))
                    .copied()
                    .unwrap_or(false);
            if !is_dark {
                if let Some(byte) = row.get_mut(px / 8) {
                    *byte |= 0x80 >> (px % 8);
                }
            }
        }
    }
    let side = u32::try_from(size).map_err(|_| "QR code too large".to_string())?;
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    let mut writer = encoder.write_header().map_err(|e| format!("PNG: {e}"))?;
    writer
        .write_image_data(&pixels)
        .map_err(|e| format!("PNG: {e}"))?;
    writer.finish().map_err(|e| format!("PNG: {e}"))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_decodes_to_the_code() {
        let bytes = png("mdoc:oQ", 2).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let (width, _) = modules("mdoc:oQ").unwrap();
        let side = ((width + 8) * 2) as u32;
        assert_eq!((reader.info().width, reader.info().height), (side, side));
        let mut buffer = vec![0; reader.output_buffer_size()];
        reader.next_frame(&mut buffer).unwrap();
        // The quiet zone is light; the finder pattern's corner (module 4,4) is dark.
        assert_eq!(buffer[0] & 0x80, 0x80);
        let row = (side as usize).div_ceil(8);
        assert_eq!(buffer[8 * row + 1] & 0x80, 0);
        assert!(terminal("mdoc:oQ").unwrap().lines().count() > 10);
    }
}

//! QR codes for device engagement: drawn in the terminal with half-block characters, and
//! written as a PNG (1-bit grayscale, stored deflate blocks: no image library needed).

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

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &d in data {
        a = (a + u32::from(d)) % 65_521;
        b = (b + a) % 65_521;
    }
    (b << 16) | a
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
}

/// The QR code as a PNG, `scale` pixels per module, with a 4-module quiet zone.
pub fn png(text: &str, scale: usize) -> Result<Vec<u8>, String> {
    let (width, dark) = modules(text)?;
    let quiet = 4;
    let size = (width + 2 * quiet) * scale;
    let row_bytes = size.div_ceil(8);
    let mut raw = Vec::with_capacity(size * (row_bytes + 1));
    for py in 0..size {
        raw.push(0); // filter: none
        let my = py / scale;
        let mut row = vec![0u8; row_bytes];
        for px in 0..size {
            let mx = px / scale;
            let is_dark = mx >= quiet
                && my >= quiet
                && mx - quiet < width
                && my - quiet < width
                && dark[(my - quiet) * width + (mx - quiet)];
            if !is_dark {
                row[px / 8] |= 0x80 >> (px % 8);
            }
        }
        raw.extend_from_slice(&row);
    }
    // zlib stream of stored (uncompressed) deflate blocks.
    let mut z = vec![0x78, 0x01];
    let mut blocks = raw.chunks(65_535).peekable();
    while let Some(block) = blocks.next() {
        z.push(u8::from(blocks.peek().is_none()));
        let len = block.len() as u16;
        z.extend_from_slice(&len.to_le_bytes());
        z.extend_from_slice(&(!len).to_le_bytes());
        z.extend_from_slice(block);
    }
    z.extend_from_slice(&adler32(&raw).to_be_bytes());
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::new();
    header.extend_from_slice(&(size as u32).to_be_bytes());
    header.extend_from_slice(&(size as u32).to_be_bytes());
    header.extend_from_slice(&[1, 0, 0, 0, 0]); // 1-bit grayscale
    chunk(&mut out, b"IHDR", &header);
    chunk(&mut out, b"IDAT", &z);
    chunk(&mut out, b"IEND", &[]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_match_known_values() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(adler32(b"Wikipedia"), 0x11e6_0398);
    }

    #[test]
    fn png_has_the_right_shape() {
        let png = png("mdoc:oQ", 2).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert!(png.ends_with(&[0xae, 0x42, 0x60, 0x82]));
        assert!(terminal("mdoc:oQ").unwrap().lines().count() > 10);
    }
}

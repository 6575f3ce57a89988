//! Request heads: any bytes a client sends give a head, a request for more
//! bytes, or an error, never a panic; and a complete head reads the same
//! whatever follows it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use outage::fuzzing::request_head;
use outage::request::{HeadError, MAX_HEAD_BYTES};

fuzz_target!(|data: &[u8]| {
    match request_head(data) {
        Ok(Some((head, len))) => {
            assert!(
                0 < len && len <= data.len(),
                "head length {len} of {} bytes",
                data.len()
            );
            assert!(len <= MAX_HEAD_BYTES, "a {len}-byte head passed the limit");
            assert_eq!(
                request_head(&data[..len]),
                Ok(Some((head.clone(), len))),
                "the head alone reads differently"
            );
            assert_eq!(
                request_head(&data[..len - 1]),
                Ok(None),
                "complete before its end"
            );
            let _ = head.request_line();
            let _ = head.header("host");
            serde_json::to_string(&head).expect("a head always journals");
        }
        Ok(None) => assert!(
            data.len() <= MAX_HEAD_BYTES,
            "waiting for more past the limit"
        ),
        Err(HeadError::TooLarge | HeadError::Malformed(_)) => {}
    }
});

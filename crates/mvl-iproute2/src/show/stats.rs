//! A link's counters as `ip -s [-s] link show` prints them (`print_stats64`
//! of iproute2 6.1): columns as wide as the widest of title and number.

/// The counters of `rtnl_link_stats64` that iproute2 prints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[allow(missing_docs)] // the kernel's names, as iproute2 reads them
pub struct Stats {
    pub rx_packets: u64,
    pub tx_packets: u64,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    pub rx_errors: u64,
    pub tx_errors: u64,
    pub rx_dropped: u64,
    pub tx_dropped: u64,
    pub multicast: u64,
    pub collisions: u64,
    pub rx_length_errors: u64,
    pub rx_over_errors: u64,
    pub rx_crc_errors: u64,
    pub rx_frame_errors: u64,
    pub rx_fifo_errors: u64,
    pub rx_missed_errors: u64,
    pub tx_aborted_errors: u64,
    pub tx_carrier_errors: u64,
    pub tx_fifo_errors: u64,
    pub tx_heartbeat_errors: u64,
    pub tx_window_errors: u64,
    pub rx_compressed: u64,
    pub tx_compressed: u64,
    pub rx_nohandler: u64,
}

impl Stats {
    /// The lines of `-s` (and with `errors`, of `-s -s`), each ending in a
    /// newline; `carrier_changes` is `transns`, shown whenever it is known.
    pub fn text(&self, carrier_changes: Option<u32>, errors: bool) -> String {
        let st = self;
        let mut cols = [10usize, 7, 6, 7, 7, 7, 10];
        let mut size = |vals: [u64; 7]| {
            for (c, v) in cols.iter_mut().zip(vals) {
                *c = (*c).max(v.to_string().len());
            }
        };
        let transns = u64::from(carrier_changes.unwrap_or(0));
        let (rxc, txc) = (st.rx_compressed, st.tx_compressed);
        size([
            st.rx_bytes,
            st.rx_packets,
            st.rx_errors,
            st.rx_dropped,
            st.rx_missed_errors,
            st.multicast,
            rxc,
        ]);
        if errors {
            size([
                0,
                st.rx_length_errors,
                st.rx_crc_errors,
                st.rx_frame_errors,
                st.rx_fifo_errors,
                st.rx_over_errors,
                st.rx_nohandler,
            ]);
        }
        size([
            st.tx_bytes,
            st.tx_packets,
            st.tx_errors,
            st.tx_dropped,
            st.tx_carrier_errors,
            st.collisions,
            txc,
        ]);
        if errors {
            size([
                0,
                st.tx_aborted_errors,
                st.tx_fifo_errors,
                st.tx_window_errors,
                st.tx_heartbeat_errors,
                transns,
                0,
            ]);
        }
        let c = cols;
        // A line of titles, each right-aligned in its column, after `label`.
        let heads = |label: &str, titles: &[(usize, &str)]| -> String {
            let t: Vec<String> = titles.iter().map(|(w, t)| format!("{t:>w$}")).collect();
            format!("    {label}{}\n", t.join(" "))
        };
        // A line of numbers (each followed by a space) after `pad` spaces;
        // an optional last column only when its value is set.
        let nums = |pad: usize, vals: &[(usize, u64)], last: Option<(usize, u64)>| -> String {
            let mut s = " ".repeat(pad);
            for (w, v) in vals.iter().chain(last.filter(|&(_, v)| v != 0).as_ref()) {
                s.push_str(&format!("{v:>w$} "));
            }
            s.push('\n');
            s
        };
        let opt = |v: u64, title: &'static str| if v != 0 { title } else { "" };
        let mut s = heads(
            "RX: ",
            &[
                (c[0] - 4, "bytes"),
                (c[1], "packets"),
                (c[2], "errors"),
                (c[3], "dropped"),
                (c[4], "missed"),
                (c[5], "mcast"),
                (c[6], opt(rxc, "compressed")),
            ],
        );
        let rx = [
            (c[0], st.rx_bytes),
            (c[1], st.rx_packets),
            (c[2], st.rx_errors),
            (c[3], st.rx_dropped),
            (c[4], st.rx_missed_errors),
            (c[5], st.multicast),
        ];
        s.push_str(&nums(4, &rx, Some((c[6], rxc))));
        if errors {
            let mut titles = vec![
                (c[0] - 10, ""),
                (c[1], "length"),
                (c[2], "crc"),
                (c[3], "frame"),
                (c[4], "fifo"),
                (c[5], "overrun"),
            ];
            if st.rx_nohandler != 0 {
                titles.push((c[6], "nohandler"));
            }
            s.push_str(&heads("RX errors:", &titles));
            let e = [
                (c[1], st.rx_length_errors),
                (c[2], st.rx_crc_errors),
                (c[3], st.rx_frame_errors),
                (c[4], st.rx_fifo_errors),
                (c[5], st.rx_over_errors),
            ];
            s.push_str(&nums(c[0] + 5, &e, Some((c[6], st.rx_nohandler))));
        }
        s.push_str(&heads(
            "TX: ",
            &[
                (c[0] - 4, "bytes"),
                (c[1], "packets"),
                (c[2], "errors"),
                (c[3], "dropped"),
                (c[4], "carrier"),
                (c[5], "collsns"),
                (c[6], opt(txc, "compressed")),
            ],
        ));
        let tx = [
            (c[0], st.tx_bytes),
            (c[1], st.tx_packets),
            (c[2], st.tx_errors),
            (c[3], st.tx_dropped),
            (c[4], st.tx_carrier_errors),
            (c[5], st.collisions),
        ];
        s.push_str(&nums(4, &tx, Some((c[6], txc))));
        if errors {
            let transns_head = if carrier_changes.is_some() { "transns" } else { "" };
            s.push_str(&heads(
                "TX errors:",
                &[
                    (c[0] - 10, ""),
                    (c[1], "aborted"),
                    (c[2], "fifo"),
                    (c[3], "window"),
                    (c[4], "heartbt"),
                    (c[5], transns_head),
                ],
            ));
            let e = [
                (c[1], st.tx_aborted_errors),
                (c[2], st.tx_fifo_errors),
                (c[3], st.tx_window_errors),
                (c[4], st.tx_heartbeat_errors),
            ];
            // The carrier changes show whenever the kernel sent them, 0 included.
            let mut line = nums(c[0] + 5, &e, None);
            if carrier_changes.is_some() {
                line.pop();
                line.push_str(&format!("{transns:>w$} \n", w = c[5]));
            }
            s.push_str(&line);
        }
        s
    }
}

//! Activation, the audio thread's jobs, processing, transport and render mode.

use clack_host::prelude::*;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use super::ClapHost;
use crate::audio_thread::{audio_thread_main, AudioCmd, AudioReply, AudioThread, BlockJob};
use crate::error::{HostError, Result};
use crate::events::{InputEvent, TimedEvent, Transport};
use crate::types::{ActiveConfig, BlockSizes, ProcessOutput};

/// How long the host waits for the audio thread to answer one command (a job of up to 4096
/// blocks) before it gives up on a hung `process()`.
const AUDIO_THREAD_TIMEOUT: Duration = Duration::from_secs(600);

impl ClapHost {
    /// The current activation, if active.
    pub fn active_config(&self) -> Option<&ActiveConfig> {
        self.active.as_ref()
    }

    /// Activates the plugin and starts processing on a fresh audio thread. Resets the steady
    /// sample clock to 0.
    pub fn activate(&mut self, sample_rate: f64, min_block: u32, max_block: u32) -> Result<()> {
        if self.active.is_some() {
            return Err(HostError::Active {
                operation: "activate",
            });
        }
        if min_block == 0 || max_block < min_block {
            return Err(HostError::BadBlockSizes {
                min: min_block,
                max: max_block,
            });
        }
        self.service_main_thread();
        let ports = |this: &mut Self, is_input| -> Vec<u32> {
            this.audio_ports(is_input)
                .iter()
                .map(|p| p.channel_count)
                .collect()
        };
        let config = ActiveConfig {
            sample_rate,
            min_block,
            max_block,
            input_channels: ports(self, true),
            output_channels: ports(self, false),
        };
        let stopped = self
            .instance
            .activate(
                |_, _| (),
                PluginAudioConfiguration {
                    sample_rate,
                    min_frames_count: min_block,
                    max_frames_count: max_block,
                },
            )
            .map_err(|e| HostError::ActivateFailed {
                sample_rate,
                min_block,
                max_block,
                reason: e.to_string(),
            })?;
        let (cmd_tx, cmd_rx) = mpsc::channel();
        let (reply_tx, reply_rx) = mpsc::channel();
        let key = self.shared(|s| s.key);
        let params = self.exts.params;
        let cfg = config.clone();
        let join = thread::Builder::new()
            .name(format!("clap-audio-{key}"))
            .spawn(move || audio_thread_main(stopped, key, params, cfg, cmd_rx, reply_tx))
            .map_err(|e| HostError::AudioThreadSpawn {
                reason: e.to_string(),
            })?;
        let mut audio = AudioThread {
            tx: cmd_tx,
            rx: reply_rx,
            join: Some(join),
        };
        match audio.rx.recv() {
            Ok(AudioReply::Started) => {}
            Ok(AudioReply::StartFailed(reason)) => {
                let stopped = audio.join.take().and_then(|j| j.join().ok());
                if let Some(stopped) = stopped {
                    self.instance.deactivate(stopped);
                }
                return Err(HostError::StartProcessingFailed { reason });
            }
            _ => return Err(HostError::AudioThreadDied),
        }
        self.audio = Some(audio);
        self.active = Some(config);
        self.steady_time = 0;
        Ok(())
    }

    /// `clap_plugin_render.set`: offline (`true`, the host renders as fast as it can and the
    /// plugin may take its time) or realtime. Call while inactive: nice-plug reads the mode
    /// in `activate`.
    pub fn set_offline_render(&mut self, offline: bool) -> Result<()> {
        use clack_extensions::render::RenderMode;
        let render = self.exts.render.ok_or(HostError::MissingExtension {
            extension: "render",
        })?;
        let mode = if offline {
            RenderMode::Offline
        } else {
            RenderMode::Realtime
        };
        let handle = self.instance.plugin_handle();
        render
            .set(&handle, mode)
            .map_err(|_| HostError::RenderModeRefused { offline })?;
        self.service_main_thread();
        Ok(())
    }

    /// `clap_plugin_latency.get`: the audio latency the plugin reports, in samples (what a host
    /// compensates its tracks by). The spec allows the query only while active or activating.
    pub fn latency_samples(&mut self) -> Result<u32> {
        if self.active.is_none() {
            return Err(HostError::NotActive {
                operation: "latency_samples",
            });
        }
        let latency = self.exts.latency.ok_or(HostError::MissingExtension {
            extension: "latency",
        })?;
        let handle = self.instance.plugin_handle();
        let samples = latency.get(&handle);
        self.service_main_thread();
        Ok(samples)
    }

    /// How many times the plugin called `clap_host_latency.changed`.
    pub fn latency_changes(&self) -> u32 {
        self.shared(|s| s.latency_changes.load(Ordering::SeqCst))
    }

    /// Stops processing, joins the audio thread and deactivates. No-op when inactive.
    pub fn deactivate(&mut self) -> Result<()> {
        let Some(mut audio) = self.audio.take() else {
            self.active = None;
            return Ok(());
        };
        self.active = None;
        self.pending.clear();
        let _ = audio.tx.send(AudioCmd::Stop);
        let joined = audio.join.take().map(|j| j.join());
        let result = match joined {
            Some(Ok(stopped)) => {
                self.instance.deactivate(stopped);
                Ok(())
            }
            // The processor was dropped with the panicking thread; clack then allows this.
            _ => {
                let _ = self.instance.try_deactivate();
                Err(HostError::AudioThreadPanicked)
            }
        };
        self.service_main_thread();
        result
    }

    /// `clap_plugin.reset()` on the audio thread; also resets the steady clock.
    pub fn reset(&mut self) -> Result<()> {
        self.audio_roundtrip(AudioCmd::Reset)?;
        self.steady_time = 0;
        Ok(())
    }

    /// Sets (or clears) the transport sent with every block.
    pub fn set_transport(&mut self, transport: Option<Transport>) {
        self.transport = transport;
    }

    /// The transport as it will be sent with the next block.
    pub fn transport(&self) -> Option<&Transport> {
        self.transport.as_ref()
    }

    /// The steady sample clock: samples processed since activation/reset.
    pub fn steady_time(&self) -> u64 {
        self.steady_time
    }

    /// Sends a command to the audio thread and waits for its reply, answering the plugin's
    /// main-thread callback requests meanwhile (as a real host's main loop would).
    pub(super) fn audio_roundtrip(&mut self, cmd: AudioCmd) -> Result<AudioReply> {
        let audio = self.audio.as_ref().ok_or(HostError::NotActive {
            operation: "an audio-thread command (process, flush, reset)",
        })?;
        audio.tx.send(cmd).map_err(|_| HostError::AudioThreadDied)?;
        let started = Instant::now();
        loop {
            let reply = self
                .audio
                .as_ref()
                .expect("checked above")
                .rx
                .recv_timeout(Duration::from_millis(2));
            match reply {
                Ok(r) => {
                    self.service_main_thread();
                    return Ok(r);
                }
                Err(RecvTimeoutError::Timeout) => {
                    self.service_main_thread();
                    if started.elapsed() > AUDIO_THREAD_TIMEOUT {
                        return Err(HostError::AudioThreadTimeout {
                            seconds: AUDIO_THREAD_TIMEOUT.as_secs(),
                        });
                    }
                }
                Err(RecvTimeoutError::Disconnected) => return Err(HostError::AudioThreadDied),
            }
        }
    }

    /// Builds the per-block job: main input from `inputs`, zeros for other input ports.
    fn make_job(
        &mut self,
        inputs: &[&[f32]],
        frames: usize,
        mut events: Vec<TimedEvent>,
    ) -> Result<BlockJob> {
        let config = self.active.as_ref().ok_or(HostError::NotActive {
            operation: "process",
        })?;
        if frames == 0 || frames > config.max_block as usize {
            return Err(HostError::BlockOutOfRange {
                frames,
                max_block: config.max_block,
            });
        }
        let main_in = config.input_channels.first().copied().unwrap_or(0) as usize;
        if inputs.len() != main_in {
            return Err(HostError::InputChannelCount {
                given: inputs.len(),
                expected: main_in,
            });
        }
        if let Some(bad) = inputs.iter().find(|c| c.len() != frames) {
            return Err(HostError::ChannelLength {
                got: bad.len(),
                expected: frames,
            });
        }
        if let Some(e) = events.iter().find(|e| e.time as usize >= frames) {
            return Err(HostError::EventOutsideBlock {
                time: e.time,
                frames,
            });
        }
        let mut ports: Vec<Vec<Vec<f32>>> = config
            .input_channels
            .iter()
            .map(|&c| vec![vec![0.0f32; frames]; c as usize])
            .collect();
        if let Some(main) = ports.first_mut() {
            for (dst, src) in main.iter_mut().zip(inputs) {
                dst.copy_from_slice(src);
            }
        }
        let mut all = std::mem::take(&mut self.pending);
        all.append(&mut events);
        let job = BlockJob {
            inputs: ports,
            frames,
            events: all,
            steady_time: self.steady_time,
            transport: self.transport.clone(),
        };
        self.steady_time += frames as u64;
        if let Some(t) = self.transport.as_mut() {
            if t.playing {
                t.song_pos_beats += frames as f64 / config.sample_rate * t.tempo_bpm / 60.0;
            }
        }
        Ok(job)
    }

    /// Processes one block. `inputs` is the main input port, one slice per channel (all of the
    /// block's length); `events` are sent with the queued [`Self::set_param`] events.
    pub fn process(&mut self, inputs: &[&[f32]], events: &[TimedEvent]) -> Result<ProcessOutput> {
        let frames = inputs.first().map_or(0, |c| c.len());
        self.process_frames(inputs, frames, events)
    }

    /// Like [`Self::process`], with the block length given (for plugins without audio input).
    pub fn process_frames(
        &mut self,
        inputs: &[&[f32]],
        frames: usize,
        events: &[TimedEvent],
    ) -> Result<ProcessOutput> {
        let job = self.make_job(inputs, frames, events.to_vec())?;
        let mut out = ProcessOutput::default();
        self.run_jobs(vec![(0, job)], &mut out)?;
        Ok(out)
    }

    fn run_jobs(&mut self, jobs: Vec<(u64, BlockJob)>, out: &mut ProcessOutput) -> Result<()> {
        let starts: Vec<u64> = jobs.iter().map(|(s, _)| *s).collect();
        let reply = self.audio_roundtrip(AudioCmd::Process(
            jobs.into_iter().map(|(_, j)| j).collect(),
        ))?;
        let AudioReply::Processed(results) = reply else {
            return Err(HostError::UnexpectedAudioReply);
        };
        for (start, r) in starts.into_iter().zip(results?) {
            let main = r.outputs.into_iter().next().unwrap_or_default();
            if out.audio.is_empty() {
                out.audio = vec![Vec::new(); main.len()];
            }
            for (dst, src) in out.audio.iter_mut().zip(main) {
                dst.extend_from_slice(&src);
            }
            out.midi
                .extend(r.midi.into_iter().map(|(t, e)| (t + start, e)));
            out.other_events
                .extend(r.other.into_iter().map(|(t, e)| (t + start, e)));
            out.statuses.push(r.status);
            out.plugin_time += r.plugin_time;
        }
        Ok(())
    }

    /// Cuts a long signal (one `Vec` per channel) into blocks, processes them in order (one
    /// audio-thread job; the steady clock and transport advance per block) and concatenates the
    /// outputs. `events` carry absolute sample times and are delivered in the block containing
    /// them; queued [`Self::set_param`] events go into the first block.
    pub fn process_signal(
        &mut self,
        signal: &[Vec<f32>],
        block_sizes: &BlockSizes,
        events: &[(u64, InputEvent)],
    ) -> Result<ProcessOutput> {
        let len = signal.first().map_or(0, Vec::len);
        if signal.iter().any(|c| c.len() != len) {
            return Err(HostError::ChannelLengthsDiffer);
        }
        let max_block = self.active.as_ref().map_or(0, |c| c.max_block as usize);
        let sizes = block_plan(len, block_sizes, max_block)?;
        let mut jobs = Vec::with_capacity(sizes.len());
        let mut start = 0usize;
        for n in sizes {
            let chans: Vec<&[f32]> = signal.iter().map(|c| &c[start..start + n]).collect();
            let evs: Vec<TimedEvent> = events
                .iter()
                .filter(|(t, _)| (*t as usize) >= start && (*t as usize) < start + n)
                .map(|(t, e)| TimedEvent::new((*t as usize - start) as u32, e.clone()))
                .collect();
            let job = self.make_job(&chans, n, evs)?;
            jobs.push((start as u64, job));
            start += n;
        }
        let mut out = ProcessOutput::default();
        // Keep each audio-thread job to a bounded number of blocks, servicing the main thread
        // between them.
        let mut rest = jobs;
        while !rest.is_empty() {
            let tail = rest.split_off(rest.len().min(4096));
            self.run_jobs(rest, &mut out)?;
            rest = tail;
        }
        Ok(out)
    }
}

/// Block lengths covering `len` samples.
pub fn block_plan(len: usize, sizes: &BlockSizes, max_block: usize) -> Result<Vec<usize>> {
    let mut out = Vec::new();
    let mut done = 0usize;
    let mut i = 0usize;
    let mut rng = match sizes {
        BlockSizes::Random { seed, .. } => *seed ^ 0x9E37_79B9_7F4A_7C15,
        _ => 0,
    };
    while done < len {
        let want = match sizes {
            BlockSizes::Fixed(n) => *n,
            BlockSizes::Cycle(v) => {
                if v.is_empty() {
                    return Err(HostError::EmptyBlockCycle);
                }
                v[i % v.len()]
            }
            BlockSizes::Random { min, max, .. } => {
                // xorshift64*
                rng ^= rng >> 12;
                rng ^= rng << 25;
                rng ^= rng >> 27;
                let r = rng.wrapping_mul(0x2545_F491_4F6C_DD1D);
                let span = max.saturating_sub(*min) + 1;
                min + (r % span as u64) as usize
            }
        };
        if want == 0 {
            return Err(HostError::ZeroBlockSize);
        }
        if max_block > 0 && want > max_block {
            return Err(HostError::BlockExceedsMax {
                size: want,
                max_block,
            });
        }
        let n = want.min(len - done);
        out.push(n);
        done += n;
        i += 1;
    }
    Ok(out)
}

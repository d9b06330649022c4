//! The audio thread: owns the plugin's audio processor while active and runs every
//! `process`, `flush` and `reset` call.

use clack_extensions::params::PluginParams;
use clack_host::prelude::*;
use std::sync::mpsc::{Receiver, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::error::{HostError, Result};
use crate::events::{
    build_input_events, collect_output_events, MidiOrNoteEvent, OtherOutputEvent, TimedEvent,
    Transport,
};
use crate::handlers::{ClapHostHandlers, AUDIO_THREAD_OF};
use crate::types::ActiveConfig;

pub(crate) struct BlockJob {
    /// One `Vec` per channel per input port, each `frames` long.
    pub(crate) inputs: Vec<Vec<Vec<f32>>>,
    pub(crate) frames: usize,
    pub(crate) events: Vec<TimedEvent>,
    pub(crate) steady_time: u64,
    pub(crate) transport: Option<Transport>,
}

pub(crate) struct BlockResult {
    pub(crate) outputs: Vec<Vec<Vec<f32>>>,
    pub(crate) midi: Vec<(u64, MidiOrNoteEvent)>,
    pub(crate) other: Vec<(u64, OtherOutputEvent)>,
    pub(crate) status: String,
    /// Time inside the plugin's `process()`.
    pub(crate) plugin_time: Duration,
}

pub(crate) enum AudioCmd {
    Process(Vec<BlockJob>),
    /// `clap_plugin_params.flush` on the audio thread (allowed while active).
    Flush(Vec<TimedEvent>),
    Reset,
    Stop,
}

pub(crate) enum AudioReply {
    Started,
    /// `start_processing` failed, for this reason.
    StartFailed(String),
    Processed(Result<Vec<BlockResult>>),
    Flushed(Vec<(u64, OtherOutputEvent)>),
    Done,
}

pub(crate) struct AudioThread {
    pub(crate) tx: Sender<AudioCmd>,
    pub(crate) rx: Receiver<AudioReply>,
    pub(crate) join: Option<JoinHandle<StoppedPluginAudioProcessor<ClapHostHandlers>>>,
}

pub(crate) fn run_block(
    proc_: &mut StartedPluginAudioProcessor<ClapHostHandlers>,
    config: &ActiveConfig,
    in_ports: &mut AudioPorts,
    out_ports: &mut AudioPorts,
    mut job: BlockJob,
) -> Result<BlockResult> {
    let n = job.frames;
    let mut outputs: Vec<Vec<Vec<f32>>> = config
        .output_channels
        .iter()
        .map(|&c| vec![vec![0.0f32; n]; c as usize])
        .collect();
    let in_events = build_input_events(&job.events);
    let mut out_events = EventBuffer::with_capacity(64);
    let transport = job.transport.as_ref().map(Transport::to_event);
    let plugin_time;

    let status = {
        let input_audio = in_ports.with_input_buffers(job.inputs.iter_mut().map(|port| {
            AudioPortBuffer {
                latency: 0,
                channels: AudioPortBufferType::f32_input_only(
                    port.iter_mut()
                        .map(|ch| InputChannel::variable(ch.as_mut_slice())),
                ),
            }
        }));
        let mut output_audio =
            out_ports.with_output_buffers(outputs.iter_mut().map(|port| AudioPortBuffer {
                latency: 0,
                channels: AudioPortBufferType::f32_output_only(
                    port.iter_mut().map(|ch| ch.as_mut_slice()),
                ),
            }));
        let started = Instant::now();
        let status = proc_.process(
            &input_audio,
            &mut output_audio,
            &in_events.as_input(),
            &mut out_events.as_output(),
            Some(job.steady_time),
            transport.as_ref(),
        );
        plugin_time = started.elapsed();
        status.map_err(|e| HostError::ProcessFailed {
            status: e.to_string(),
        })?
    };
    let mut midi = Vec::new();
    let mut other = Vec::new();
    collect_output_events(&out_events, 0, &mut midi, &mut other);
    Ok(BlockResult {
        outputs,
        midi,
        other,
        status: format!("{status:?}"),
        plugin_time,
    })
}

pub(crate) fn audio_thread_main(
    stopped: StoppedPluginAudioProcessor<ClapHostHandlers>,
    host_key: u64,
    params: Option<PluginParams>,
    config: ActiveConfig,
    rx: Receiver<AudioCmd>,
    tx: Sender<AudioReply>,
) -> StoppedPluginAudioProcessor<ClapHostHandlers> {
    AUDIO_THREAD_OF.with(|k| k.set(host_key));
    let mut started = match stopped.start_processing() {
        Ok(s) => s,
        Err(e) => {
            let _ = tx.send(AudioReply::StartFailed(e.to_string()));
            AUDIO_THREAD_OF.with(|k| k.set(0));
            return e.into_stopped_processor();
        }
    };
    let _ = tx.send(AudioReply::Started);
    let total_in: usize = config.input_channels.iter().map(|&c| c as usize).sum();
    let total_out: usize = config.output_channels.iter().map(|&c| c as usize).sum();
    let mut in_ports = AudioPorts::with_capacity(total_in, config.input_channels.len());
    let mut out_ports = AudioPorts::with_capacity(total_out, config.output_channels.len());

    while let Ok(cmd) = rx.recv() {
        match cmd {
            AudioCmd::Process(jobs) => {
                let mut results = Vec::with_capacity(jobs.len());
                let mut failure = None;
                for job in jobs {
                    match run_block(&mut started, &config, &mut in_ports, &mut out_ports, job) {
                        Ok(r) => results.push(r),
                        Err(e) => {
                            failure = Some(e);
                            break;
                        }
                    }
                }
                let reply = match failure {
                    Some(e) => Err(e),
                    None => Ok(results),
                };
                let _ = tx.send(AudioReply::Processed(reply));
            }
            AudioCmd::Flush(events) => {
                let mut other = Vec::new();
                if let Some(params) = params {
                    let input = build_input_events(&events);
                    let mut output = EventBuffer::with_capacity(16);
                    params.flush_active(
                        &mut started.plugin_handle(),
                        &input.as_input(),
                        &mut output.as_output(),
                    );
                    collect_output_events(&output, 0, &mut Vec::new(), &mut other);
                }
                let _ = tx.send(AudioReply::Flushed(other));
            }
            AudioCmd::Reset => {
                started.reset();
                let _ = tx.send(AudioReply::Done);
            }
            AudioCmd::Stop => break,
        }
    }
    let stopped = started.stop_processing();
    AUDIO_THREAD_OF.with(|k| k.set(0));
    stopped
}

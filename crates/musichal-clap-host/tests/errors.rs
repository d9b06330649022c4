//! Failures that need no plugin give the typed error naming what failed.

use musichal_clap_host::{block_plan, BlockSizes, ClapHost, HostError};

#[test]
fn loading_a_file_that_is_not_a_plugin_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.clap");
    match ClapHost::load(&missing) {
        Err(HostError::LoadFailed { path, reason }) => {
            assert_eq!(path, missing);
            assert!(!reason.is_empty());
        }
        Err(other) => panic!("expected LoadFailed, got {other:?}"),
        Ok(_) => panic!("a missing file loaded"),
    }
    let text = dir.path().join("text.clap");
    std::fs::write(&text, "not a shared library").unwrap();
    match ClapHost::load(&text) {
        Err(HostError::LoadFailed { path, .. }) => assert_eq!(path, text),
        Err(other) => panic!("expected LoadFailed, got {other:?}"),
        Ok(_) => panic!("a text file loaded"),
    }
}

#[test]
fn block_plans_cover_the_signal_or_say_which_size_is_wrong() {
    assert_eq!(
        block_plan(10, &BlockSizes::Fixed(4), 8).unwrap(),
        vec![4, 4, 2]
    );
    assert_eq!(
        block_plan(10, &BlockSizes::Cycle(vec![3, 1]), 8).unwrap(),
        vec![3, 1, 3, 1, 2]
    );
    assert_eq!(
        block_plan(10, &BlockSizes::Cycle(Vec::new()), 8),
        Err(HostError::EmptyBlockCycle)
    );
    assert_eq!(
        block_plan(10, &BlockSizes::Fixed(0), 8),
        Err(HostError::ZeroBlockSize)
    );
    assert_eq!(
        block_plan(10, &BlockSizes::Fixed(9), 8),
        Err(HostError::BlockExceedsMax {
            size: 9,
            max_block: 8
        })
    );
    let random = block_plan(
        1000,
        &BlockSizes::Random {
            min: 5,
            max: 7,
            seed: 3,
        },
        8,
    )
    .unwrap();
    assert_eq!(random.iter().sum::<usize>(), 1000);
    let (last, rest) = random.split_last().unwrap();
    assert!(rest.iter().all(|n| (5..=7).contains(n)), "{random:?}");
    assert!((1..=7).contains(last));
}

#[test]
fn error_messages_name_the_thing() {
    let e = HostError::ParamNotFound {
        name: "Wobble".into(),
        available: vec!["Morph".into(), "Intensity".into()],
    };
    assert_eq!(
        e.to_string(),
        "the plugin has no parameter named \"Wobble\"; its parameters are [\"Morph\", \"Intensity\"]"
    );
    let e = HostError::TextNotAccepted {
        param: "Morph".into(),
        text: "lots".into(),
    };
    assert_eq!(
        e.to_string(),
        "the plugin does not accept \"lots\" for \"Morph\"; give a value as the plugin displays it"
    );
}

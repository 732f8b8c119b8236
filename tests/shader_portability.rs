//! Every WGSL module as every API will see it: parsed and validated by naga, its pipeline
//! constants applied, then translated to SPIR-V (checked by `spirv-val`), MSL, HLSL and GLSL, so
//! a shader that Metal, DX12 or GL would reject fails here, on a machine without those GPUs. The
//! `Dims` uniform's layout, as naga lays out the WGSL struct, is checked against the Rust one.

use std::mem::{offset_of, size_of};
use std::process::Command;

use clwe_bench::backends::gpu::kernels::{Dims, GemmVariant, Module};
use naga::back::{PipelineConstants, glsl, hlsl, msl, spv};
use naga::valid::{Capabilities, ModuleInfo, ValidationFlags, Validator};

/// A module parsed and validated, with each value of the `FRESH` override applied, and, in the
/// two product modules, each GEMM variant's `LANES` and `BLOCK`.
fn variants(module: Module) -> Vec<(String, naga::Module, ModuleInfo)> {
    let parsed = naga::front::wgsl::parse_str(module.source())
        .unwrap_or_else(|e| panic!("{module:?}: {}", e.emit_to_string(module.source())));
    let capabilities = if module.needs_subgroups() {
        Capabilities::SUBGROUP | Capabilities::SUBGROUP_BARRIER
    } else {
        Capabilities::default()
    };
    let info = Validator::new(ValidationFlags::all(), capabilities)
        .validate(&parsed)
        .unwrap_or_else(|e| panic!("{module:?} does not validate: {e:?}"));
    // The workgroup-memory variants in their modules, the subgroup one (at each GROUP an
    // adapter may get) in the subgroup modules.
    let gemms: Vec<Option<(GemmVariant, u32)>> = if module.needs_subgroups() {
        GemmVariant::ALL.into_iter().filter(|v| v.subgroup).flat_map(|v| [4, 8, 16].map(|g| Some((v, g)))).collect()
    } else if module.has_gemm_variants() {
        GemmVariant::ALL.into_iter().filter(|v| !v.subgroup).map(|v| Some((v, 0))).collect()
    } else {
        vec![None]
    };
    let mut out = Vec::new();
    for fresh in [false, true] {
        for &gemm in &gemms {
            let mut constants: PipelineConstants =
                [("FRESH".to_string(), f64::from(u8::from(fresh)))].into_iter().collect();
            if let Some((v, group)) = gemm {
                constants
                    .extend([("LANES".to_string(), f64::from(v.lanes)), ("BLOCK".to_string(), f64::from(v.block))]);
                if v.subgroup {
                    constants.insert("GROUP".to_string(), f64::from(group));
                }
            }
            let variant = gemm.map_or(String::new(), |(v, g)| {
                format!(", {v}{}", if v.subgroup { format!(", GROUP {g}") } else { String::new() })
            });
            let name = format!("{module:?} (FRESH = {fresh}{variant})");
            let (m, i) = naga::back::pipeline_constants::process_overrides(&parsed, &info, None, &constants)
                .unwrap_or_else(|e| panic!("{name}: {e:?}"));
            out.push((name, m.into_owned(), i.into_owned()));
        }
    }
    out
}

#[test]
fn every_module_translates_to_spirv_that_spirv_val_accepts() {
    let dir = tempfile::tempdir().unwrap();
    for module in Module::ALL {
        // Subgroup operations are SPIR-V 1.3 (Vulkan 1.1), where wgpu's Vulkan backend puts them.
        let options = spv::Options {
            lang_version: if module.needs_subgroups() { (1, 3) } else { spv::Options::default().lang_version },
            ..spv::Options::default()
        };
        for (name, m, info) in variants(module) {
            let words = spv::write_vec(&m, &info, &options, None).unwrap_or_else(|e| panic!("{name}: SPIR-V: {e:?}"));
            let path = dir.path().join("module.spv");
            std::fs::write(&path, bytemuck::cast_slice::<u32, u8>(&words)).unwrap();
            let out = Command::new("spirv-val")
                .args(["--target-env", "vulkan1.1"])
                .arg(&path)
                .output()
                .expect("spirv-val (Debian's spirv-tools; scripts/setup.sh installs it)");
            assert!(out.status.success(), "{name}: spirv-val: {}", String::from_utf8_lossy(&out.stderr));
        }
    }
}

#[test]
fn every_module_translates_to_msl_hlsl_and_glsl() {
    for module in Module::ALL {
        // Subgroup (SIMD-group, wave) operations need MSL 2.1 and HLSL shader model 6.0, where
        // wgpu's Metal and DX12 backends offer them; its GL backend offers none.
        let subgroups = module.needs_subgroups();
        let metal_options = if subgroups {
            msl::Options { lang_version: (2, 1), ..Default::default() }
        } else {
            msl::Options::default()
        };
        let hlsl_options = if subgroups {
            hlsl::Options { shader_model: hlsl::ShaderModel::V6_0, ..Default::default() }
        } else {
            hlsl::Options::default()
        };
        for (name, m, info) in variants(module) {
            let (metal, _) = msl::write_string(&m, &info, &metal_options, &msl::PipelineOptions::default())
                .unwrap_or_else(|e| panic!("{name}: MSL: {e:?}"));
            assert!(metal.contains("kernel"), "{name}: no compute function in the MSL");
            let mut direct_x = String::new();
            let pipeline = hlsl::PipelineOptions::default();
            hlsl::Writer::new(&mut direct_x, &hlsl_options, &pipeline)
                .write(&m, &info, None)
                .unwrap_or_else(|e| panic!("{name}: HLSL: {e:?}"));
            assert!(direct_x.contains("[numthreads("), "{name}: no compute shader in the HLSL");
            if subgroups {
                continue;
            }
            for entry in &m.entry_points {
                let mut gl = String::new();
                let options = glsl::Options { version: glsl::Version::new_gles(310), ..glsl::Options::default() };
                let pipeline = glsl::PipelineOptions {
                    shader_stage: naga::ShaderStage::Compute,
                    entry_point: entry.name.clone(),
                    multiview: None,
                };
                glsl::Writer::new(&mut gl, &m, &info, &options, &pipeline, naga::proc::BoundsCheckPolicies::default())
                    .and_then(|mut w| w.write())
                    .unwrap_or_else(|e| panic!("{name}, {}: GLSL ES 3.10: {e:?}", entry.name));
            }
        }
    }
}

#[test]
fn the_dims_uniform_has_the_layout_of_its_wgsl_struct() {
    let module = naga::front::wgsl::parse_str(Module::Output.source()).unwrap();
    let mut layouter = naga::proc::Layouter::default();
    layouter.update(module.to_ctx()).unwrap();
    let (handle, ty) = module.types.iter().find(|(_, t)| t.name.as_deref() == Some("Dims")).expect("struct Dims");
    let naga::TypeInner::Struct { members, span } = &ty.inner else { panic!("Dims is not a struct") };
    let rust: Vec<(&str, usize)> = vec![
        ("d", offset_of!(Dims, d)),
        ("width", offset_of!(Dims, width)),
        ("batch", offset_of!(Dims, batch)),
        ("rows", offset_of!(Dims, rows)),
        ("chunk_offset", offset_of!(Dims, chunk_offset)),
        ("x_rows", offset_of!(Dims, x_rows)),
        ("fixed_data", offset_of!(Dims, fixed_data)),
        ("flags", offset_of!(Dims, flags)),
        ("key", offset_of!(Dims, key)),
        ("input_tag", offset_of!(Dims, input_tag)),
        ("scalar_tag", offset_of!(Dims, scalar_tag)),
        ("base", offset_of!(Dims, base)),
        ("gamma_s", offset_of!(Dims, gamma_s)),
        ("cap_m", offset_of!(Dims, cap_m)),
        ("sigma", offset_of!(Dims, sigma)),
        ("noise", offset_of!(Dims, noise)),
        ("null_labels", offset_of!(Dims, null_labels)),
        ("optimizer", offset_of!(Dims, optimizer)),
        ("lr", offset_of!(Dims, lr)),
        ("beta1", offset_of!(Dims, beta1)),
        ("beta2", offset_of!(Dims, beta2)),
        ("eps", offset_of!(Dims, eps)),
        ("trivial", offset_of!(Dims, trivial)),
        ("n_tiles", offset_of!(Dims, n_tiles)),
        ("batch_mod_m", offset_of!(Dims, batch_mod_m)),
        ("phase_noise", offset_of!(Dims, phase_noise)),
        ("lr_decay_steps", offset_of!(Dims, lr_decay_steps)),
        ("pad0", offset_of!(Dims, pad)),
        ("pad1", offset_of!(Dims, pad) + 4),
        ("pad2", offset_of!(Dims, pad) + 8),
    ];
    let wgsl: Vec<(&str, usize)> =
        members.iter().map(|m| (m.name.as_deref().unwrap_or("?"), m.offset as usize)).collect();
    assert_eq!(wgsl, rust, "member names and byte offsets, in order");
    assert_eq!(*span as usize, size_of::<Dims>(), "struct size");
    assert_eq!(layouter[handle].size as usize, size_of::<Dims>());
    assert_eq!(size_of::<Dims>() % 16, 0, "a uniform buffer's size is a multiple of 16 bytes");
}

#[test]
fn the_codes_shaders_read_match_their_one_rust_definition() {
    use clwe_bench::backends::gpu::kernels::{
        BASE_FROM_DIMS, EVAL_LABELS, FIRST_CHUNK, GEMM_DEPTH, LAST_CHUNK, ShaderOptimizer,
    };
    use clwe_bench::params::NoiseModel;
    let module = naga::front::wgsl::parse_str(Module::Forward.source()).unwrap();
    let constant = |name: &str| -> u32 {
        let (_, c) = module
            .constants
            .iter()
            .find(|(_, c)| c.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("no `const {name}` in the shaders"));
        match module.global_expressions[c.init] {
            naga::Expression::Literal(naga::Literal::U32(v)) => v,
            ref other => panic!("{name} is not a u32 literal: {other:?}"),
        }
    };
    for (name, rust) in [
        ("NOISE_GAUSSIAN", NoiseModel::Gaussian as u32),
        ("NOISE_UNIFORM", NoiseModel::Uniform as u32),
        ("NOISE_LAPLACE", NoiseModel::Laplace as u32),
        ("OPTIMIZER_SGD", ShaderOptimizer::Sgd as u32),
        ("OPTIMIZER_ADAM", ShaderOptimizer::Adam as u32),
        ("FIRST_CHUNK", FIRST_CHUNK),
        ("LAST_CHUNK", LAST_CHUNK),
        ("BASE_FROM_DIMS", BASE_FROM_DIMS),
        ("EVAL_LABELS", EVAL_LABELS),
        ("DEPTH", GEMM_DEPTH),
    ] {
        assert_eq!(constant(name), rust, "{name}");
    }
    // The overrides' defaults are the default GEMM variant.
    let default = |name: &str| -> u32 {
        let (_, o) = module
            .overrides
            .iter()
            .find(|(_, o)| o.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("no `override {name}` in the shaders"));
        match o.init.map(|h| &module.global_expressions[h]) {
            Some(naga::Expression::Literal(naga::Literal::U32(v))) => *v,
            other => panic!("{name}'s default is not a u32 literal: {other:?}"),
        }
    };
    assert_eq!((default("LANES"), default("BLOCK")), (GemmVariant::DEFAULT.lanes, GemmVariant::DEFAULT.block));
}

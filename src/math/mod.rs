//! Pure mathematics shared by every layer: the Philox generator, Gaussian transforms, and the
//! triangle-wave target with its exact ReLU construction.

pub mod fastmath;
pub mod lll;
pub mod normal;
pub mod philox;
pub mod target;

//! xacthuc-bench: a load tool that drives complete browserless OpenID Connect logins against
//! any provider. See bench/README.md.

pub mod cpu;
pub mod flow;
pub mod html;
pub mod load;
pub mod oidc;
pub mod pkce;
pub mod report;
pub mod run;
pub mod scenario;
pub mod stats;
pub mod template;

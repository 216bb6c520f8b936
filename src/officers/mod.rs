//! Officers (cán bộ, công chức): accounts by administrative unit and their strong logins.
//! So far only the assurance levels an officer login reaches, so that services can demand them.

pub mod acr;

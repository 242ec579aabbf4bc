//! Building blocks shared by pages.

pub mod charts;
pub mod document_input;
pub mod dossier_bits;
pub mod eform;
pub mod feedback;
pub mod lang_switch;
pub mod nav;
pub mod notices;
pub mod procedure_card;
pub mod push;
pub mod scorecard;
pub mod step_up;

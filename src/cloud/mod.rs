//! The AWS and Kubernetes clients of one console, built once and shared by the probes and
//! the runbook executors, and what a failed call or a Deployment's status says, in plain
//! types ([`CallFailure`], [`kubernetes::RolloutReading`]) that the model turns into its own
//! words. At the bottom of the layers: it knows nothing of the model.

pub mod aws;
pub mod kubernetes;

use crate::config::Config;

/// Why a call to AWS or Kubernetes told nothing about the thing asked (the model reads it as
/// UNKNOWN with this reason: `app::ObserveError` is made from it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallFailure {
    #[error("credentials: {0}")]
    Credentials(String),
    #[error("access denied: {0}")]
    AccessDenied(String),
    #[error("unreachable: {0}")]
    Unreachable(String),
    #[error("{0}")]
    Other(String),
}

/// The clients every probe and every runbook executor of one console shares.
#[derive(Clone)]
pub struct Clients {
    pub aws: aws::AwsClients,
    pub kube: kubernetes::KubeClients,
}

impl Clients {
    pub fn new(config: &Config) -> Clients {
        Clients {
            aws: aws::AwsClients::new(config.aws.endpoint_url.clone()),
            kube: kubernetes::KubeClients::new(),
        }
    }
}

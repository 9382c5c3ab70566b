//! The AWS and Kubernetes clients of one console, built once and shared by the probes and
//! the runbook executors, and how what those control planes answer reads in the model's
//! words (an [`ObserveError`](crate::app::ObserveError), an [`Outcome`](crate::app::Outcome)).
//! Above the model, below the adapters that use it (see the README's "Architecture").

pub mod aws;
pub mod kubernetes;

use crate::config::Config;

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

//! The `k8s_deployment` health probe: how a Deployment reads is the cloud room's
//! ([`read_deployment`], with its table), shared with the rollout steps.

use std::time::Instant;

use k8s_openapi::api::apps::v1::Deployment;
use kube::Api;

use super::{ObserveFuture, Probe};
use crate::app::Outcome;
use crate::cloud::kubernetes::{KubeClients, observe_error, read_deployment};

/// `k8s_deployment`: are the desired replicas of a Deployment available?
#[derive(Debug, Clone)]
pub struct DeploymentProbe {
    clients: KubeClients,
    namespace: String,
    deployment: String,
    context: Option<String>,
}

impl DeploymentProbe {
    pub fn new(
        clients: KubeClients,
        namespace: impl Into<String>,
        deployment: impl Into<String>,
        context: Option<String>,
    ) -> DeploymentProbe {
        DeploymentProbe {
            clients,
            namespace: namespace.into(),
            deployment: deployment.into(),
            context,
        }
    }

    async fn ask(&self) -> Outcome {
        let client = match self.clients.client(self.context.as_deref()).await {
            Ok(client) => client,
            Err(failure) => return Outcome::cannot_observe(failure),
        };
        let api: Api<Deployment> = Api::namespaced(client, &self.namespace);
        let started = Instant::now();
        match api.get(&self.deployment).await {
            Ok(d) => Outcome::of_rollout(read_deployment(&d), started.elapsed()),
            Err(kube::Error::Api(status)) if status.code == 404 => Outcome::Down {
                detail: format!(
                    "deployment {} not found in {}",
                    self.deployment, self.namespace
                ),
            },
            Err(e) => Outcome::cannot_observe(observe_error(&e)),
        }
    }
}

impl Probe for DeploymentProbe {
    fn observe(&self) -> ObserveFuture<'_> {
        Box::pin(self.ask())
    }

    fn describe(&self) -> String {
        match &self.context {
            Some(ctx) => format!(
                "k8s_deployment {}/{} ({ctx})",
                self.namespace, self.deployment
            ),
            None => format!("k8s_deployment {}/{}", self.namespace, self.deployment),
        }
    }
}

/**
 * Push triggers: which pushed tag a service with {@code autoDeploy} takes
 * ({@link dev.berth.deploy.trigger.TriggerPolicy}, pure), and the push as the control plane receives
 * it ({@link dev.berth.deploy.trigger.Push}) from Berth's own event feed or from another registry's
 * webhook.
 */
package dev.berth.deploy.trigger;

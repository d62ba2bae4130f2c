import ArgumentParser
import DRCore
import Foundation

/// `drctl drill schedule --print crontab|kubernetes|ecs|ecs-task`: deployment snippets that run
/// `drctl drill run` on the plan's schedule (see deploy/ for the image and Terraform).
struct DrillScheduleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Print a ready-to-use crontab entry, Kubernetes CronJob or EventBridge Scheduler → ECS Fargate schedule for the plan's drills.")

    enum Target: String, ExpressibleByArgument, CaseIterable, Sendable {
        case crontab, systemd, kubernetes, ecs
        case ecsTask = "ecs-task"
    }

    @OptionGroup var planOption: PlanOption
    @Option(name: .customLong("print"), help: "What to print: crontab, systemd (a service and a timer in UTC), kubernetes, ecs (the EventBridge schedule) or ecs-task (the task definition).") var target: Target
    @Option(name: .long, help: "The drctl container image (kubernetes, ecs-task).") var image = "ghcr.io/OWNER/drctl:\(DRCTLVersion.string)"
    @Option(name: .long, help: "Kubernetes namespace.") var namespace = "drctl"
    @Option(name: .long, help: "Kubernetes service account (IRSA).") var serviceAccount = "drctl-drill"

    func run() async throws {
        let plan = try DRPlanLoader.load(path: planOption.path, sections: ProviderRegistration.sections)
        let schedule = try CronSchedule(parsing: plan.drillSchedule)
        // A schedule for a drill that `drill run` would refuse would fail every time it fires.
        if let site = plan.drSite {
            let providers = ProviderRegistration.providers(.declarationsOnly)
            do {
                _ = try DrillComposer.make(plan: plan, site: site, runId: "run-00000000-000000-schedule", providers: providers,
                                           available: Set(EngineSession.registry(for: providers).names))
            } catch let problem as DrillProblem {
                throw problem.refusal(plan: plan)
            }
        }
        let path = URL(fileURLWithPath: planOption.path).standardizedFileURL.path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let deployment = DrillDeployment(planName: plan.name, schedule: schedule, maxRuntimeSeconds: plan.drill.maxRuntime,
                                         urlEnvironmentVariables: plan.drill.secretEnvironmentVariables, drRegion: plan.drRegion, planPath: path, planText: text, image: image,
                                         namespace: namespace, serviceAccount: serviceAccount)
        switch target {
        case .crontab: print(deployment.crontab(), terminator: "")
        case .systemd: print(deployment.systemd(), terminator: "")
        case .kubernetes: print(deployment.kubernetes(), terminator: "")
        case .ecsTask:
            print(try deployment.ecsTaskDefinition(), terminator: "")
            FileHandle.standardError.write(Data(deployment.ecsTaskNotes().utf8))
        case .ecs:
            do {
                print(try deployment.ecs(), terminator: "")
                FileHandle.standardError.write(Data(try deployment.ecsNotes().utf8))
            } catch let error as ScheduleConversionError {
                throw RunEnded(status: .invalidRunbook, message: "error: \(plan.source.path): drills.schedule: \(error)")
            }
        }
    }
}
